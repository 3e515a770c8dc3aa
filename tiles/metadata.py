"""Tile metadata for clients: TileJSON 3.0 per tileset, and OGC API - Tiles documents (landing,
conformance, tile matrix sets, tileset lists and tileset metadata) so OGC clients discover them.

Every function takes ``base``, the app's absolute URL, and returns plain JSON-ready dicts.
"""

from __future__ import annotations

from typing import Any

from geo.settings import get_settings
from tiles.grid import MAX_ZOOM, MIN_ZOOM, TMS, TMS_ID
from tiles.vector import (
    AGGREGATE_NOTE,
    BINS_PER_SIDE,
    CAP_FROM_ZOOM,
    FRESHNESS,
    FROZEN,
    MAX_FEATURES,
    MVT_MEDIA_TYPE,
    TileLayer,
    Tileset,
    all_tilesets,
)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
REL = "http://www.opengis.net/def/rel/ogc/1.0"
TILES_CONF = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
CONFORMANCE = [
    f"{TILES_CONF}/core",
    f"{TILES_CONF}/tileset",
    f"{TILES_CONF}/tilesets-list",
    f"{TILES_CONF}/geodata-tilesets",
    f"{TILES_CONF}/dataset-tilesets",
    f"{TILES_CONF}/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
GEOMETRY_DIMENSION = {"Point": 0, "MultiPoint": 0, "LineString": 1, "MultiLineString": 1, "MultiPolygon": 2}
TILEJSON_TYPES = {"boolean": "Boolean", "integer": "Number", "number": "Number"}


def tile_url(base: str, tileset: Tileset) -> str:
    """The XYZ URL template of a tileset's MVT tiles."""
    return f"{base}/tiles/{tileset.id}/{{z}}/{{x}}/{{y}}.mvt"


def tileset_path(tileset: Tileset) -> str:
    """Where OGC API - Tiles puts the tileset: a collection's, or the dataset's (basemap)."""
    return "/tiles/tiles" if tileset.id == "basemap" else f"/tiles/collections/{tileset.id}/tiles"


def tilejson(tileset: Tileset, base: str) -> dict[str, Any]:
    """TileJSON 3.0.0 for MapLibre, Leaflet.VectorGrid, QGIS and friends."""
    west, south, east, north = tileset.bounds
    return {
        "tilejson": "3.0.0",
        "name": tileset.id,
        "description": description(tileset),
        "attribution": tileset.attribution,
        "scheme": "xyz",
        "tiles": [tile_url(base, tileset)],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "bounds": [west, south, east, north],
        "center": [round((west + east) / 2, 5), round((south + north) / 2, 5), 10],
        "vector_layers": [
            {
                "id": layer.id,
                "description": layer_description(layer),
                "minzoom": MIN_ZOOM,
                "maxzoom": MAX_ZOOM,
                "fields": {name: TILEJSON_TYPES.get(kind, "String") for name, kind in all_field_types(layer).items()},
            }
            for layer in tileset.layers
        ],
    }


def description(tileset: Tileset) -> str:
    """The tileset's description, with what its low zooms show when they come from an aggregate."""
    if not tileset.aggregated:
        return tileset.description
    interval = get_settings().report_cells_interval_s
    freshness = FRESHNESS.format(interval=interval) if interval > 0 else FROZEN
    note = AGGREGATE_NOTE.format(cap=CAP_FROM_ZOOM, bins=BINS_PER_SIDE, freshness=freshness, max_features=MAX_FEATURES)
    return f"{tileset.description} {note}"


def layer_description(layer: TileLayer) -> str:
    if layer.low_zoom is None:
        return f"{layer.geometry_type} features of {layer.table}"
    return (f"{layer.geometry_type} features of {layer.table} from zoom {CAP_FROM_ZOOM}; below, counts per bin "
            f"from {layer.low_zoom.table} ({', '.join(layer.low_zoom.fields)})")  # fmt: skip


def all_field_types(layer: TileLayer) -> dict[str, str]:
    """The attributes a layer's tiles may carry at some zoom: its own, then its aggregate's."""
    return {**layer.field_types(), **(layer.low_zoom.field_types() if layer.low_zoom else {})}


def landing(base: str) -> dict[str, Any]:
    return {
        "title": "HueGIS tiles",
        "description": "Vector tiles (Mapbox Vector Tile) of every HueGIS layer and a basemap, OGC API - Tiles",
        "links": [
            _link(base, "/tiles", "self", "application/json", "This document"),
            _link(base, "/tiles/conformance", f"{REL}/conformance", "application/json", "Conformance"),
            _link(base, "/tiles/tileMatrixSets", f"{REL}/tiling-schemes", "application/json", "Tile matrix sets"),
            _link(base, "/tiles/collections", "data", "application/json", "Collections with tiles"),
            _link(base, "/tiles/tiles", f"{REL}/tilesets-vector", "application/json", "Basemap vector tilesets"),
            _link(base, "/tiles/basemap/style.json", "describedby", "application/json", "MapLibre style"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def tile_matrix_sets(base: str) -> dict[str, Any]:
    return {
        "tileMatrixSets": [
            {
                "id": TMS_ID,
                "title": TMS.title or TMS_ID,
                "uri": str(TMS.uri),
                "crs": str(TMS.crs.root),
                "links": [_link(base, f"/tiles/tileMatrixSets/{TMS_ID}", "self", "application/json", TMS_ID)],
            }
        ]
    }


def tile_matrix_set() -> dict[str, Any]:
    """The WebMercatorQuad definition (OGC TMS 2.0 JSON) from morecantile."""
    return TMS.model_dump(exclude_none=True, mode="json")


def collections(base: str) -> dict[str, Any]:
    return {
        "collections": [collection(t, base) for t in all_tilesets().values() if t.id != "basemap"],
        "links": [_link(base, "/tiles/collections", "self", "application/json", "Collections with tiles")],
    }


def collection(tileset: Tileset, base: str) -> dict[str, Any]:
    return {
        "id": tileset.id,
        "title": tileset.title,
        "description": tileset.description,
        "extent": {"spatial": {"bbox": [list(tileset.bounds)], "crs": CRS84}},
        "links": [
            _link(base, f"/tiles/collections/{tileset.id}", "self", "application/json", tileset.title),
            _link(base, tileset_path(tileset), f"{REL}/tilesets-vector", "application/json", "Vector tilesets"),
            _link(base, f"/ogc/collections/{tileset.id}", "describedby", "application/json", "OGC API Features"),
        ],
    }


def tilesets(tileset: Tileset, base: str) -> dict[str, Any]:
    """The tileset list of a collection (or of the dataset): one WebMercatorQuad vector tileset."""
    path = tileset_path(tileset)
    return {
        "tilesets": [
            {
                "title": tileset.title,
                "dataType": "vector",
                "crs": str(TMS.crs.root),
                "tileMatrixSetURI": str(TMS.uri),
                "links": [
                    _link(base, f"{path}/{TMS_ID}", "self", "application/json", f"{tileset.title}, {TMS_ID}"),
                    _link(base, f"/tiles/tileMatrixSets/{TMS_ID}", f"{REL}/tiling-scheme", "application/json", TMS_ID),
                ],
            }
        ],
        "links": [_link(base, path, "self", "application/json", "Tilesets")],
    }


def tileset_metadata(tileset: Tileset, base: str) -> dict[str, Any]:
    """OGC API - Tiles tileset metadata: limits per zoom, layers with their properties schema."""
    path = f"{tileset_path(tileset)}/{TMS_ID}"
    west, south, east, north = tileset.bounds
    return {
        "title": tileset.title,
        "description": description(tileset),
        "dataType": "vector",
        "crs": str(TMS.crs.root),
        "tileMatrixSetURI": str(TMS.uri),
        "tileMatrixSetLimits": tile_matrix_limits(tileset.bounds),
        "boundingBox": {"lowerLeft": [west, south], "upperRight": [east, north], "crs": CRS84},
        "attribution": tileset.attribution,
        "layers": [
            {
                "id": layer.id,
                "title": layer.id,
                "dataType": "vector",
                "geometryDimension": GEOMETRY_DIMENSION[layer.geometry_type],
                "featureType": layer.table,
                "minTileMatrix": str(MIN_ZOOM),
                "maxTileMatrix": str(MAX_ZOOM),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {name: _schema(kind) for name, kind in all_field_types(layer).items()},
                },
            }
            for layer in tileset.layers
        ],
        "links": [
            _link(base, path, "self", "application/json", "This tileset"),
            _link(base, f"/tiles/tileMatrixSets/{TMS_ID}", f"{REL}/tiling-scheme", "application/json", TMS_ID),
            _link(base, f"/tiles/{tileset.id}/tilejson.json", "alternate", "application/json", "TileJSON"),
            {
                "href": f"{base}{path}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
                "rel": "item",
                "type": MVT_MEDIA_TYPE,
                "templated": True,
                "title": "Mapbox Vector Tiles",
            },
        ],
    }


def tile_matrix_limits(bounds: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    """Rows and columns covering ``bounds`` (lon/lat) at every served zoom."""
    west, south, east, north = bounds
    limits = []
    for z in range(MIN_ZOOM, MAX_ZOOM + 1):
        top_left = TMS.tile(west, north, z)
        bottom_right = TMS.tile(east, south, z)
        limits.append(
            {
                "tileMatrix": str(z),
                "minTileRow": top_left.y,
                "maxTileRow": bottom_right.y,
                "minTileCol": top_left.x,
                "maxTileCol": bottom_right.x,
            }
        )
    return limits


def _schema(kind: str) -> dict[str, str]:
    base, _, fmt = kind.partition(":")
    return {"type": base, "format": fmt} if fmt else {"type": base}


def _link(base: str, path: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": f"{base}{path}", "rel": rel, "type": media_type, "title": title}
