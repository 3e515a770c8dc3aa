"""Exporting a layer to a file a ministry or a desktop GIS takes: GeoPackage, Shapefile, CSV, GeoJSON.

Coordinates go out in any CRS PROJ knows (VN-2000 / TM-3 107-00, EPSG:9214, for the ministry)
through the same accurate transformation as imports, never a ballpark one. ``--where`` is an
ECQL expression parsed by pygeofilter into a SQLAlchemy filter on the layer's published
columns: values are bound parameters, unknown columns and anything that is not an expression
are refused, so no text of the user's reaches SQL.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import sqlalchemy as sa
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pygeofilter.backends.sqlalchemy.evaluate import to_filter
from pygeofilter.parsers.ecql import parse as parse_ecql
from pyproj import CRS
from pyproj.exceptions import CRSError
from pyproj.transformer import TransformerGroup
from sqlalchemy.dialects import postgresql

from geo.errors import InvalidInput
from geo.registry import LayerSpec
from layers.city_files import WGS84

Format = Literal["gpkg", "shp", "csv", "geojson"]
FORMATS: dict[str, tuple[str, str]] = {  # format -> (GDAL driver, file suffix)
    "gpkg": ("GPKG", ".gpkg"),
    "shp": ("ESRI Shapefile", ".shp"),
    "csv": ("CSV", ".csv"),
    "geojson": ("GeoJSON", ".geojson"),
}
MEDIA_TYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "shp": "application/zip",
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@dataclass(frozen=True)
class ExportResult:
    """What was written: the file, its rows, the CRS and the transformation used."""

    path: Path
    rows: int
    crs: str
    transformation: str


def format_of(path: Path, given: str | None = None) -> Format:
    """The export format named, or read from the file's suffix (.gpkg, .shp or .zip, .csv, .geojson/.json)."""
    if given:
        if given not in FORMATS:
            raise InvalidInput(f"format {given!r}: one of {', '.join(FORMATS)}")
        return given  # type: ignore[return-value]
    suffix = path.suffix.lower()
    found = {".gpkg": "gpkg", ".shp": "shp", ".zip": "shp", ".csv": "csv", ".geojson": "geojson", ".json": "geojson"}
    if suffix not in found:
        raise InvalidInput(f"{path.name}: name the file .gpkg, .shp (or .zip), .csv or .geojson")
    return found[suffix]  # type: ignore[return-value]


def target_crs(text: str | None) -> CRS:
    """The export CRS (EPSG:4326 by default); InvalidInput for a code PROJ does not know."""
    if not text:
        return WGS84
    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise InvalidInput(f"crs {text!r} is not a CRS PROJ knows (e.g. EPSG:9214)") from None


def where_filter(spec: LayerSpec, where: str | None) -> Any:
    """A SQLAlchemy filter from an ECQL expression on the layer's published columns (None: everything)."""
    if not where:
        return None
    columns = {name: spec.table.c[name] for name in (spec.id_field, *spec.fields) if name in spec.table.c}
    try:
        return to_filter(parse_ecql(where), columns, undefined_as_null=False)
    except KeyError as exc:
        raise InvalidInput(
            f"where: {exc.args[0]!r} is not a column of {spec.id}; columns: {', '.join(columns)}"
        ) from None
    except Exception as exc:  # the ECQL grammar's errors: one class per token problem
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(f"where: not an ECQL expression ({first}); e.g. \"school_level = 'primary'\"") from None


def _bbox_filter(spec: LayerSpec, bbox: tuple[float, float, float, float] | None) -> Any:
    if bbox is None:
        return None
    minx, miny, maxx, maxy = bbox
    if not (minx < maxx and miny < maxy):
        raise InvalidInput("bbox: give minx,miny,maxx,maxy in lon/lat with min < max")
    envelope = sa.func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326)
    return sa.func.ST_Intersects(spec.table.c.geom, envelope)


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` (lon/lat) as four numbers; InvalidInput otherwise."""
    if not text:
        return None
    try:
        minx, miny, maxx, maxy = (float(part) for part in text.split(","))
    except ValueError:
        raise InvalidInput(f"bbox {text!r}: give four numbers minx,miny,maxx,maxy (lon/lat)") from None
    return minx, miny, maxx, maxy


async def read_layer(
    conn: AsyncConnection,
    spec: LayerSpec,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    where: str | None = None,
) -> gpd.GeoDataFrame:
    """The layer's published columns and geometry (EPSG:4326), filtered, in id order."""
    table = spec.table
    names = list(dict.fromkeys([spec.id_field, *spec.fields]))
    statement = sa.select(*(table.c[n] for n in names), sa.func.ST_AsBinary(table.c.geom).label("geom_wkb"))
    for clause in (_bbox_filter(spec, bbox), where_filter(spec, where)):
        if clause is not None:
            statement = statement.where(clause)
    statement = statement.order_by(*table.primary_key.columns)
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(compiled.string, compiled.params)
        rows = await cur.fetchall()
    geoms = shapely.from_wkb([bytes(row.pop("geom_wkb")) for row in rows]) if rows else np.array([], dtype=object)
    columns = {n: pd.array([row[n] for row in rows], dtype=_dtype(table.c[n])) for n in names}
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=WGS84)


def _dtype(column: sa.Column) -> Any:
    """Nullable integers and booleans stay integers and booleans in the file (not floats or objects)."""
    kind = column.type.python_type
    if kind is int:
        return "Int64"
    if kind is bool:
        return "boolean"
    return "Float64" if kind is float or kind.__name__ == "Decimal" else object


def write_file(frame: gpd.GeoDataFrame, path: Path, *, fmt: Format, crs: CRS, layer_name: str) -> ExportResult:
    """Write ``frame`` (EPSG:4326) to ``path`` in ``crs``; a shapefile named .zip is zipped with its parts."""
    transformation = "none"
    out = frame
    if not crs.equals(WGS84, ignore_axis_order=True):
        group = TransformerGroup(WGS84, crs, always_xy=True, allow_ballpark=False)
        if not group.transformers:
            raise InvalidInput(f"no accurate transformation from WGS 84 to {crs.name} is known")
        transformer = group.transformers[0]
        transformation = transformer.description

        def move(coords: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=True)
            return np.column_stack([x, y])

        geoms = shapely.transform(np.asarray(frame.geometry.values, dtype=object), move)
        out = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geoms, crs=crs)
    out = _writable(out)
    driver, suffix = FORMATS[fmt]
    zipped = fmt == "shp" and path.suffix.lower() == ".zip"
    target = path.with_suffix(suffix) if zipped else path
    options: dict[str, Any] = {}
    if fmt == "csv":
        options = {"layer_options": {"GEOMETRY": "AS_XY" if _points(out) else "AS_WKT"}}
    if fmt == "gpkg":
        options = {"layer": layer_name}
    for part in SHAPEFILE_PARTS if fmt == "shp" else (target.suffix,):
        target.with_suffix(part).unlink(missing_ok=True)  # a new file, not layers added to an old one
    pyogrio.write_dataframe(out, target, driver=driver, encoding="UTF-8" if fmt == "shp" else None, **options)
    if zipped:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in SHAPEFILE_PARTS:
                member = target.with_suffix(part)
                if member.exists():
                    archive.write(member, member.name)
                    member.unlink()
    code = crs.to_epsg()
    return ExportResult(path, len(frame), f"{crs.name} (EPSG:{code})" if code else crs.name, transformation)


def _writable(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GDAL writes as they are: time zones to ISO text (Shapefile and CSV have none), decimals to floats."""
    out = frame.copy()
    for column in out.columns:
        if column == "geometry":
            continue
        values = out[column]
        sample = next((v for v in values if v is not None), None)
        if hasattr(sample, "tzinfo") and getattr(sample, "hour", None) is not None:
            out[column] = values.map(lambda v: v.isoformat() if v is not None else None)
        elif sample is not None and type(sample).__name__ == "Decimal":
            out[column] = values.map(lambda v: float(v) if v is not None else None)
    return out


def _points(frame: gpd.GeoDataFrame) -> bool:
    return len(frame) > 0 and set(frame.geometry.geom_type) == {"Point"}
