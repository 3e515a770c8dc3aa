"""Exporting a layer to a file a ministry or a desktop GIS takes: GeoPackage, Shapefile, CSV, GeoJSON.

Coordinates go out in any CRS PROJ knows (VN-2000 / TM-3 107-00, EPSG:9214, for the ministry)
through the same accurate transformation as imports, never a ballpark one. ``--where`` is an
ECQL expression parsed by pygeofilter into a SQLAlchemy filter on the layer's published
columns: values are bound parameters, unknown columns and anything that is not an expression
are refused, so no text of the user's reaches SQL.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import shapely
import sqlalchemy as sa
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pygeofilter import ast, values
from pygeofilter.backends.sqlalchemy.evaluate import to_filter
from pygeofilter.parsers.ecql import parse as parse_ecql
from pyproj import CRS
from pyproj.transformer import TransformerGroup
from sqlalchemy.dialects import postgresql

from geo.errors import InvalidInput
from geo.imported import ColumnType, column_type
from geo.registry import LayerSpec
from geo.times import TZ, check_instant, parse_instant
from layers.city_files import WGS84, parse_crs

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
MAX_WHERE = 4000  # characters of an ECQL filter: a long list of ids fits, an attempt to exhaust the parser does not
MAX_DEPTH = 200  # conditions chained or nested (each one a level of recursion here and in pygeofilter)
# The conditions an export filters on: a published column, an operator, values of the column's type.
FILTERS = (ast.Comparison, ast.Between, ast.Like, ast.In, ast.IsNull, ast.TemporalPredicate)
SUPPORTED = (
    "use =, <>, <, <=, >, >=, BETWEEN, LIKE, IN (...), IS NULL, BEFORE/AFTER/DURING on dates, AND, OR, NOT "
    "(and the bbox parameter for places)"
)


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
    return parse_crs(text, "crs")


def where_filter(spec: LayerSpec, where: str | None) -> Any:
    """A SQLAlchemy filter from an ECQL expression on the layer's published columns (None: everything)."""
    if not where:
        return None
    if len(where) > MAX_WHERE:
        raise InvalidInput(f"where: {len(where)} characters, more than {MAX_WHERE}; filter less at once")
    columns = {name: spec.table.c[name] for name in (spec.id_field, *spec.fields) if name in spec.table.c}
    try:
        tree = parse_ecql(where)
    except RecursionError:
        raise InvalidInput("where: nested too deeply") from None
    except Exception as exc:  # the ECQL grammar's errors: one class per token problem
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(f"where: not an ECQL expression ({first}); e.g. \"school_level = 'primary'\"") from None
    return to_filter(_typed(tree, spec, columns, depth=0), columns, undefined_as_null=False)


def _typed(node: Any, spec: LayerSpec, columns: dict[str, Any], *, depth: int) -> Any:
    """``node`` with every value converted to its column's type; InvalidInput for what the export does not filter on.

    Only comparisons of a published column with values are allowed (no functions, arithmetic or
    column-to-column tests), so what reaches SQL is a column, an operator and bound values of the
    column's own type: PostgreSQL never sees text compared with numbers.
    """
    if depth > MAX_DEPTH:
        raise InvalidInput(f"where: more than {MAX_DEPTH} conditions in a row; for a list of values use IN (...)")
    if isinstance(node, ast.Include):
        return node
    if isinstance(node, ast.Not):
        return ast.Not(_typed(node.sub_node, spec, columns, depth=depth + 1))
    if isinstance(node, ast.Combination):
        lhs = _typed(node.lhs, spec, columns, depth=depth + 1)
        return type(node)(lhs, _typed(node.rhs, spec, columns, depth=depth + 1))
    if not isinstance(node, FILTERS):
        raise InvalidInput(f"where: {type(node).__name__} is not supported; {SUPPORTED}")
    name, kind = _column(node.lhs, spec, columns)
    if isinstance(node, ast.IsNull):
        return node
    if isinstance(node, ast.Like):
        if kind != "text" or not isinstance(node.pattern, str):
            raise InvalidInput(f"where: LIKE compares a text column with a quoted pattern; {name} is {kind}")
        return node
    if isinstance(node, ast.TemporalPredicate):
        if kind not in ("date", "timestamp"):
            raise InvalidInput(f"where: {type(node).__name__} needs a date or time column; {name} is {kind}")
        rhs = node.rhs
        if isinstance(rhs, values.Interval):
            rhs = values.Interval(*(_value(v, name, kind) if v is not None else None for v in (rhs.start, rhs.end)))
        else:
            rhs = _value(rhs, name, kind)
        return type(node)(node.lhs, rhs)
    if isinstance(node, ast.Between):
        return ast.Between(node.lhs, _value(node.low, name, kind), _value(node.high, name, kind), node.not_)
    if isinstance(node, ast.In):
        return ast.In(node.lhs, [_value(v, name, kind) for v in node.sub_nodes], node.not_)
    return type(node)(node.lhs, _value(node.rhs, name, kind))


def _column(node: Any, spec: LayerSpec, columns: dict[str, Any]) -> tuple[str, ColumnType]:
    """The published column a condition tests, and its kind."""
    if not isinstance(node, ast.Attribute):
        raise InvalidInput(f"where: a condition starts with a column name, not {_shown(node)}; {SUPPORTED}")
    if node.name not in columns:
        raise InvalidInput(f"where: {node.name!r} is not a column of {spec.id}; columns: {', '.join(columns)}")
    kind = column_type(columns[node.name])
    if kind is None:
        raise InvalidInput(f"where: {node.name} cannot be filtered on (use bbox for places)")
    return node.name, kind


def _value(value: Any, name: str, kind: ColumnType) -> Any:
    """A value given for column ``name`` as that column's type; InvalidInput naming both when it is not one."""
    if isinstance(value, ast.Node | values.Geometry | values.Envelope | values.Interval | list):
        raise InvalidInput(f"where: compare {name} with a value, not {_shown(value)}")
    if kind == "text":
        if isinstance(value, str):
            return value
        raise InvalidInput(f"where: {name} is text: quote the value ('{value}')")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise InvalidInput(f"where: {name} is true or false, not {_shown(value)}")
    if kind in ("integer", "float"):
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return value
        raise InvalidInput(f"where: {name} is a number: write it without quotes, not {_shown(value)}")
    if isinstance(value, str):
        value = parse_instant(f"where: {name}", value)
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=TZ)
        return value.astimezone(TZ).date() if kind == "date" else check_instant(f"where: {name}", value)
    if isinstance(value, date):
        return value if kind == "date" else datetime.combine(value, time(0), TZ)
    raise InvalidInput(f"where: {name} is a {'date' if kind == 'date' else 'date and time'}, not {_shown(value)}")


def _shown(value: Any) -> str:
    """A value or an expression as a message quotes it (cut short)."""
    if isinstance(value, str):
        return repr(value[:40])
    return type(value).__name__ if isinstance(value, ast.Node) else str(value)[:40]


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
    compiled = statement.compile(dialect=postgresql.psycopg.dialect(), compile_kwargs={"render_postcompile": True})
    async with conn.cursor(row_factory=dict_row) as cur:
        try:
            await cur.execute(compiled.string, compiled.params)
        except psycopg.errors.DataError as exc:  # a value checked against its column's type and still refused
            raise InvalidInput(f"where: a value does not fit its column ({exc.diag.message_primary})") from None
        rows = await cur.fetchall()
    geoms = shapely.from_wkb([bytes(row.pop("geom_wkb")) for row in rows]) if rows else np.array([], dtype=object)
    columns = {n: pd.array([row[n] for row in rows], dtype=_dtype(table.c[n])) for n in names}
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=WGS84)


def _dtype(column: sa.Column) -> Any:
    """Each column's type in the file even when values are missing: nullable integers stay integers, not floats."""
    kind = column_type(column)
    if kind == "timestamp":
        return "datetime64[us, UTC]" if getattr(column.type, "timezone", False) else "datetime64[us]"
    return {"integer": "Int64", "boolean": "boolean", "float": "Float64"}.get(kind or "", object)


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
    out = _writable(out, fmt)
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


def _writable(frame: gpd.GeoDataFrame, fmt: Format) -> gpd.GeoDataFrame:
    """Columns GDAL writes as they are: decimals to floats; in formats without a date-time type
    (Shapefile, CSV), date-times as ISO 8601 text in Huế time, which imports read back as date-times."""
    out = frame.copy()
    for column in out.columns:
        if column == "geometry":
            continue
        values = out[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype) and fmt in ("shp", "csv"):
            local = values.dt.tz_convert(TZ) if isinstance(values.dtype, pd.DatetimeTZDtype) else values
            out[column] = pd.Series(
                [None if pd.isna(v) else v.isoformat() for v in local], index=values.index, dtype=object
            )
            continue
        sample = next((v for v in values if v is not None), None)
        if sample is not None and type(sample).__name__ == "Decimal":
            out[column] = values.map(lambda v: float(v) if v is not None else None)
    return out


def _points(frame: gpd.GeoDataFrame) -> bool:
    return len(frame) > 0 and set(frame.geometry.geom_type) == {"Point"}
