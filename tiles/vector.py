"""Mapbox Vector Tiles from PostGIS: one ``ST_AsMVT`` statement per tile, for every registry
layer and for the multi-layer basemap.

A *tileset* is what a tile URL names: a registry layer (``/tiles/schools/…``) or the basemap
(``/tiles/basemap/…``, several MVT layers in one tile). Tiles follow WebMercatorQuad (EPSG:3857,
z/x/y from the top-left); the SQL lives in ``geo/sql/tiles``. No web imports here.

Below ``CAP_FROM_ZOOM`` a layer may be drawn from an aggregate instead of its rows: the
``citizen_reports`` tiles of zooms 0-11 are report counts per bin from ``report_cells``
(geo/reports/cells.py), one point per occupied bin, so their cost follows the occupied cells, not
the reports; from zoom 12 on they are the reports themselves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache

from psycopg import AsyncConnection, sql

from geo.db import load_sql
from geo.errors import NotFound
from geo.registry import BUILT_IN, LAYERS, REGISTRY, LayerSpec, get_layer
from geo.reports.cells import CELL_ZOOM, COARSE_ZOOM
from tiles.grid import check_tile

EXTENT = 4096  # tile coordinate units per tile side
BUFFER = 64  # units drawn beyond the edge, so strokes and labels do not break at tile seams
SIMPLIFY_BELOW = 14  # from here on a tile unit is under a metre: simplifying gains nothing
LOW_ZOOM_MAX_FEATURES = 2500  # per layer per tile below CAP_FROM_ZOOM
CAP_FROM_ZOOM = 12
BINS_PER_SIDE = 64  # aggregated low-zoom tiles: one point per bin of a 64 x 64 grid (64 tile units)
BIN_ZOOMS = BINS_PER_SIDE.bit_length() - 1  # a bin of a zoom-z tile is a tile of zoom z + 6
MAX_FEATURES = 20_000  # per layer per tile from CAP_FROM_ZOOM on: a guard, not a design limit
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

# Browsers may reuse reference tiles for five minutes; operational layers (reports, disaster
# zones) change by the minute, so browsers revalidate them (a cheap 304) on every use.
STATIC_MAX_AGE = 300


def tile_params(z: int, x: int, y: int) -> dict[str, int | float]:
    """Bound parameters of the tile SQL: envelope, buffer, simplification and feature cap."""
    unit_degrees = 360.0 / 2**z / EXTENT
    return {
        "z": z,
        "x": x,
        "y": y,
        "extent": EXTENT,
        "buffer": BUFFER,
        # Candidates within one unit more than the buffer: ST_AsMVTGeom snaps to the tile grid before
        # clipping, so a point up to half a unit beyond the buffer is still in the tile.
        "margin": (BUFFER + 1) / EXTENT,
        "tolerance": unit_degrees if z < SIMPLIFY_BELOW else 0.0,
        "max_features": LOW_ZOOM_MAX_FEATURES if z < CAP_FROM_ZOOM else MAX_FEATURES,
        "bins": BINS_PER_SIDE,
        # Aggregated low zooms read the coarse cells where a bin holds whole ones (tiles of zoom 8 and less).
        "cell_zoom": COARSE_ZOOM if z + BIN_ZOOMS <= COARSE_ZOOM else CELL_ZOOM,
    }


@dataclass(frozen=True)
class TileLayer:
    """One MVT layer of a tileset: which table it reads and which attributes it carries."""

    id: str
    table: str
    fields: tuple[str, ...]
    geometry_type: str
    template: str = "tiles/layer"
    # The attributes' JSON types when the table is not a registry layer (an aggregate); else read from it.
    kinds: tuple[tuple[str, str], ...] = ()
    # Drawn instead of this layer below CAP_FROM_ZOOM (same MVT layer name), from an aggregate table.
    low_zoom: TileLayer | None = None

    def query(self) -> sql.Composable:
        """The layer's scalar subquery, its comments dropped (the basemap repeats it per layer)."""
        text = "\n".join(line for line in load_sql(self.template).splitlines() if not line.startswith("--"))
        attributes = sql.SQL("").join(sql.SQL(", src.{}").format(sql.Identifier(f)) for f in self.fields)
        return sql.SQL(text.strip()).format(
            layer_name=sql.Literal(self.id), table=sql.Identifier(self.table), attributes=attributes
        )

    def field_types(self) -> dict[str, str]:
        """JSON type of each attribute (``string``, ``number``, ``integer``, ``boolean``) with formats."""
        if self.kinds:
            return dict(self.kinds)
        columns = get_layer(self.table).table.c
        return {name: _json_type(columns[name].type.python_type) for name in self.fields}


def _json_type(kind: type) -> str:
    if kind is bool:
        return "boolean"
    if kind is int:
        return "integer"
    if kind is float:
        return "number"
    if kind is datetime:
        return "string:date-time"
    if kind is date:
        return "string:date"
    return "string"


@dataclass(frozen=True)
class Tileset:
    """A set of tiles addressed by one URL: a registry layer or the basemap."""

    id: str
    title: str
    title_vi: str
    description: str
    layers: tuple[TileLayer, ...]
    bounds: tuple[float, float, float, float]
    attribution: str
    max_age: int | None = STATIC_MAX_AGE  # None: browsers revalidate on every use

    def layers_at(self, z: int) -> tuple[TileLayer, ...]:
        """The layers as drawn at zoom ``z``: aggregates replace their layer below CAP_FROM_ZOOM."""
        if z >= CAP_FROM_ZOOM:
            return self.layers
        return tuple(layer.low_zoom or layer for layer in self.layers)

    def sources(self, z: int) -> tuple[str, ...]:
        """The tables whose changes invalidate this tileset's tiles of zoom ``z``."""
        return tuple(sorted({layer.table for layer in self.layers_at(z)}))

    @property
    def aggregated(self) -> bool:
        """Whether some layer is drawn from an aggregate at low zooms."""
        return any(layer.low_zoom for layer in self.layers)

    def statement(self, z: int) -> sql.Composed:
        """The one statement rendering a tile of zoom ``z``: each layer's MVT, concatenated."""
        return self._statements[z < CAP_FROM_ZOOM]

    @cached_property
    def _statements(self) -> dict[bool, sql.Composed]:
        def composed(layers: tuple[TileLayer, ...]) -> sql.Composed:
            return sql.SQL("SELECT ") + sql.SQL(" || ").join(layer.query() for layer in layers)

        return {low: composed(self.layers_at(0 if low else CAP_FROM_ZOOM)) for low in (True, False)}

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever the SQL or the attributes change, so ETags of old code expire."""
        text = "".join(statement.as_string() for statement in self._statements.values())
        return hashlib.sha1(text.encode()).hexdigest()[:10]

    @property
    def cache_control(self) -> str:
        return f"public, max-age={self.max_age}" if self.max_age is not None else "public, no-cache"


# Low-zoom layers drawn from aggregates, by registry layer (see the module docstring).
LOW_ZOOM_AGGREGATES: dict[str, TileLayer] = {
    "citizen_reports": TileLayer(
        "citizen_reports",
        "report_cells",
        ("count", "open", "resolved"),
        "Point",
        template="tiles/report_bins",
        kinds=(("count", "integer"), ("open", "integer"), ("resolved", "integer")),
    ),
}
# Said in the tileset's metadata: what the low zooms show and how far behind they may be.
AGGREGATE_NOTE = (
    "Below zoom {cap}: one point per occupied bin ({bins} x {bins} per tile) with the number of reports "
    "(count) and of open and resolved ones, from report_cells (~300 m cells), {freshness}; the tiles' ETag "
    "follows report_cells, not the reports. From zoom {cap} on: the reports themselves, at most {max_features:,} "
    "per tile (the newest kept where more fall in one)."
)
FRESHNESS = "recounted every {interval} s by the report-cells job: up to {interval} s plus one run behind the reports"
FROZEN = ("not recounted here (HUEGIS_REPORT_CELLS_INTERVAL_S=0): as of the last rebuild or "
          "`huegis tiles report-cells`")  # fmt: skip


@lru_cache(maxsize=256)
def layer_tileset(spec: LayerSpec) -> Tileset:
    """The tileset of one registry layer: one MVT layer named after it (below CAP_FROM_ZOOM its aggregate, if any)."""
    layer = TileLayer(spec.id, spec.table_name, spec.mvt_fields, spec.geometry_type,
                      low_zoom=LOW_ZOOM_AGGREGATES.get(spec.id))  # fmt: skip
    return Tileset(
        id=spec.id,
        title=spec.title,
        title_vi=spec.title_vi,
        description=spec.description,
        layers=(layer,),
        bounds=spec.bbox,
        attribution=spec.attribution,
        max_age=None if spec.group == "operations" else STATIC_MAX_AGE,
    )


# The basemap, bottom to top: enough to find one's way with no external tile server.
BASEMAP = Tileset(
    id="basemap",
    title="HueGIS basemap",
    title_vi="Bản đồ nền HueGIS",
    description="Wards and communes, sea and lagoons, rivers, national and provincial roads, railway, place names.",
    layers=(
        TileLayer("water_areas", "water_areas", ("name", "water_type"), "MultiPolygon"),
        TileLayer("admin_units", "admin_units", ("code", "name", "level"), "MultiPolygon"),
        TileLayer("rivers", "rivers", ("name",), "LineString"),
        TileLayer("roads", "roads", ("ref", "name", "road_class"), "MultiLineString"),
        TileLayer("places", "places", ("name", "name_vi", "kind", "group_name"), "Point"),
        TileLayer("admin_labels", "admin_units", ("code", "name", "level"), "Point", template="tiles/admin_labels"),
    ),
    bounds=get_layer("admin_units").bbox,
    attribution="HueGIS; DiaPhan_Xa_2025; GSHHG (LGPL-3.0); GeoNames (CC BY 4.0); LegoCity (CC BY-SA 4.0)",
)

TILESETS: dict[str, Tileset] = {BASEMAP.id: BASEMAP, **{spec.id: layer_tileset(spec) for spec in LAYERS}}


def all_tilesets() -> dict[str, Tileset]:
    """Every tileset now: the basemap, the built-in layers and the layers imported since start."""
    imported = {spec.id: layer_tileset(spec) for spec in REGISTRY.values() if spec.id not in BUILT_IN}
    return {**TILESETS, **imported}


def get_tileset(tileset_id: str) -> Tileset:
    """The tileset named in a URL (imported layers included); ``NotFound`` names the known ones."""
    if tileset_id in TILESETS:
        return TILESETS[tileset_id]
    spec = REGISTRY.get(tileset_id)
    if spec is not None:
        return layer_tileset(spec)
    raise NotFound(f"unknown tileset {tileset_id!r}; known: {', '.join(all_tilesets())}")


async def render_tile(conn: AsyncConnection, tileset: Tileset, z: int, x: int, y: int) -> bytes:
    """The MVT bytes of one tile (empty when no feature touches it), in one statement."""
    check_tile(z, x, y)
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute(load_sql("tiles/session"))
        await cur.execute(tileset.statement(z), tile_params(z, x, y))
        row = await cur.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
