"""Importing a city file into a layer: attribute mapping, validation report, one transaction.

``plan_import`` maps the file's columns onto the layer (an existing one's schema, or the columns
of a new layer inferred from the file) and converts every value, rejecting the rows that do not
fit; ``import_file`` then stages the rows in PostGIS, repairs invalid geometries
(``ST_MakeValid``), rejects empty ones, those outside the city and empty or duplicate keys,
and writes the rest with the mode asked (create, append, replace, upsert) — everything in the
caller's one transaction, so a refused import or a dry run writes nothing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from dateutil.parser import isoparse
from psycopg import AsyncConnection, errors, sql
from psycopg.types.json import Jsonb

from geo import imported
from geo.audit import Actor, record
from geo.db import load_sql
from geo.errors import Conflict, InvalidInput
from geo.imported import BOOKKEEPING, Column, ColumnType
from geo.registry import BUILT_IN, REGISTRY, LayerSpec
from geo.times import TZ
from layers.city_files import SourceFile
from layers.sources import ascii_name

Mode = Literal["create", "append", "replace", "upsert"]
MODES: tuple[Mode, ...] = ("create", "append", "replace", "upsert")
# The groups a new layer may join. Into built-in layers, imports go where editing goes (LayerSpec.editable):
# the sector layers people maintain, never derived layers or the report and disaster workflows.
IMPORTABLE_GROUPS = ("thematic", "reference")
# Vietnamese attribute names a GIS department uses (accents removed) -> the platform's names.
VIETNAMESE_NAMES = {
    "ten": "name",
    "ten_goi": "name",
    "ten_co_so": "name",
    "ten_truong": "name",
    "ten_du_an": "project_name",
    "dia_chi": "address",
    "loai": "type",
    "loai_hinh": "type",
    "phan_loai": "type",
    "ma": "code",
    "ma_so": "code",
    "ma_xa": "ward_code",
    "ma_phuong": "ward_code",
    "ma_phuong_xa": "ward_code",
    "phuong_xa": "ward_name",
    "xa_phuong": "ward_name",
    "dien_tich": "area_m2",
    "dien_thoai": "phone",
    "ghi_chu": "note",
    "mo_ta": "description",
    "so_tang": "floors",
    "chu_so_huu": "owner",
    "so_giuong": "beds",
    "so_hoc_sinh": "students",
    "cap_hoc": "school_level",
    "so_thua": "parcel_no",
    "so_to": "map_sheet",
    "muc_dich_su_dung": "land_use",
    "loai_dat": "land_use",
    "so_giay_phep": "permit_no",
    "ngay_cap": "issued_on",
    "ngay_het_han": "expires_on",
    "trang_thai": "status",
    "nam": "year",
    "nguon": "source",
}
# The file's own ids: kept as an attribute of a new layer, never as the platform's id.
FILE_IDS = {"id": "source_id", "fid": "source_id", "objectid": "source_id", "gid": "source_id"}
OGR_TYPES: dict[str, ColumnType] = {
    "OFTInteger": "integer",
    "OFTInteger64": "integer",
    "OFTReal": "float",
    "OFTDate": "date",
    "OFTDateTime": "timestamp",
    "OFTString": "text",
}
TRUE = {"true", "t", "yes", "y", "1", "có", "co", "x"}
FALSE = {"false", "f", "no", "n", "0", "không", "khong", ""}
ISO_DATE = re.compile(r"^\d{4}[-/]\d{2}[-/]\d{2}$")
ISO_TIMESTAMP = re.compile(r"^\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}(:?\d{2})?|Z)?$")
# Geometry types each layer geometry type accepts from a file (promoted to Multi* when needed).
ACCEPTS = {
    "Point": {"Point", "MultiPoint"},
    "MultiPoint": {"Point", "MultiPoint"},
    "LineString": {"LineString", "MultiLineString"},
    "MultiLineString": {"LineString", "MultiLineString"},
    "MultiPolygon": {"Polygon", "MultiPolygon"},
}
DIMENSION = {"Point": 1, "MultiPoint": 1, "LineString": 2, "MultiLineString": 2, "MultiPolygon": 3}
LISTED = 200  # rows listed per kind in a report (the counts are always complete)
# Longest text of each descriptive option: titles show in lists and maps, sources on every row.
TEXT_LIMITS = {"title": 200, "title_vi": 200, "description": 2000, "source": 500, "licence": 500}


class ImportRefused(InvalidInput):
    """An import that wrote nothing, with the report that says why."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        report.refused = message
        self.report = report


@dataclass(frozen=True)
class ImportOptions:
    """What the user asked for: the layer, how to write into it, and how to read the file's columns."""

    layer_id: str
    mode: Mode | None = None  # None: create a new layer, refuse an existing one
    key: str | None = None
    title: str | None = None
    title_vi: str | None = None
    description: str = ""
    group: str = "thematic"
    mapping: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None
    licence: str = "not stated by the importer"
    allow_outside: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class ColumnPlan:
    """Where one file column goes."""

    source: str
    target: str
    type: ColumnType
    how: str


@dataclass(frozen=True)
class RowIssue:
    row: int  # 1-based, in the file's order
    reason: str


@dataclass
class ImportReport:
    """What an import read, repaired, rejected and wrote: printed by the CLI, returned by the API."""

    layer_id: str
    mode: Mode
    file_name: str
    driver: str
    source_layer: str | None
    encoding: str | None
    encoding_how: str | None
    crs: str
    crs_from: str
    transformation: str
    transformation_accuracy_m: float | None
    geometry_type: str
    new_layer: bool
    rows_read: int
    dry_run: bool
    columns: list[ColumnPlan] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    unfilled_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repaired: list[RowIssue] = field(default_factory=list)
    rejected: list[RowIssue] = field(default_factory=list)
    outside_city: list[int] = field(default_factory=list)
    empty_keys: list[int] = field(default_factory=list)
    duplicate_keys: list[int] = field(default_factory=list)
    rows_imported: int = 0
    rows_replaced: int = 0
    rows_updated: int = 0
    import_id: int | None = None
    written: bool = False
    refused: str | None = None

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, long row lists cut to their first entries (counts stay complete)."""
        body = asdict(self)
        body["rows_rejected"] = self.rows_rejected
        for name in ("repaired", "rejected", "outside_city", "empty_keys", "duplicate_keys"):
            values = body[name]
            body[f"{name}_count"] = len(values)
            body[name] = values[:LISTED]
        return body

    def text(self) -> str:
        """The report as people read it in a terminal."""
        accuracy = (
            f"{self.transformation_accuracy_m:g} m" if self.transformation_accuracy_m is not None else "not stated"
        )
        lines = [
            f"{'DRY RUN: nothing written. ' if self.dry_run else ''}Import of {self.file_name} into "
            f"{'new layer ' if self.new_layer else ''}{self.layer_id} ({self.mode})",
            f"  read         {self.rows_read} rows ({self.driver}"
            + (f", layer {self.source_layer}" if self.source_layer else "")
            + ")",
            f"  encoding     {self.encoding or 'UTF-8 (format)'}"
            + (f" ({self.encoding_how})" if self.encoding_how else ""),
            f"  CRS          {self.crs} (from {self.crs_from})",
            f"  to WGS 84    {self.transformation}; accuracy {accuracy}",
            f"  geometry     {self.geometry_type}",
            f"  imported     {self.rows_imported} rows"
            + (f" ({self.rows_updated} updated)" if self.rows_updated else "")
            + (f"; {self.rows_replaced} previous rows replaced" if self.rows_replaced else ""),
            f"  rejected     {self.rows_rejected} rows",
            f"  repaired     {len(self.repaired)} geometries (ST_MakeValid)",
            f"  outside city {len(self.outside_city)} features",
        ]
        if self.empty_keys or self.duplicate_keys:
            lines.append(f"  keys         {len(self.empty_keys)} empty, {len(self.duplicate_keys)} duplicate")
        lines.append("  columns:")
        lines += [f"    {c.source:24} -> {c.target:24} {c.type:9} ({c.how})" for c in self.columns]
        if self.ignored_columns:
            lines.append(f"  ignored columns: {', '.join(self.ignored_columns)}")
        if self.unfilled_columns:
            lines.append(f"  layer columns left empty: {', '.join(self.unfilled_columns)}")
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  repaired row {i.row}: {i.reason}" for i in self.repaired[:20]]
        lines += [f"  rejected row {i.row}: {i.reason}" for i in self.rejected[:50]]
        if len(self.rejected) > 50:
            lines.append(f"  ... and {len(self.rejected) - 50} more rejected rows (--json lists {LISTED})")
        if self.refused:
            lines.append(f"REFUSED: {self.refused}")
        return "\n".join(lines)


@dataclass
class Plan:
    """The rows ready for staging: values per target column, row sources, geometries as EWKB hex."""

    report: ImportReport
    target_columns: tuple[Column, ...]
    rows: list[tuple[int, list[Any], str, str | None]]  # (row number, values, source, EWKB hex)
    spec: LayerSpec | None
    key: str | None


def check_options(options: ImportOptions) -> None:
    """InvalidInput naming the option that cannot be used: a bad layer id or group, text that is not plain text."""
    imported.check_layer_id(options.layer_id)
    if options.group not in IMPORTABLE_GROUPS:
        raise InvalidInput(f"group {options.group[:40]!r}: a new layer goes in one of {', '.join(IMPORTABLE_GROUPS)}")
    for name, limit in TEXT_LIMITS.items():
        value = getattr(options, name)
        if value is None:
            continue
        if len(value) > limit:
            raise InvalidInput(f"{name}: {len(value)} characters, more than {limit}")
        if "<" in value or ">" in value or any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in value):
            raise InvalidInput(f"{name}: plain text, without < > or control characters (it is shown in pages and maps)")


# --- the plan (no database) ---------------------------------------------------------------------


def column_name(text: str) -> str:
    """A file's column name as a column of ours: 'Địa chỉ' -> 'dia_chi', '2020 pop' -> 'f_2020_pop'."""
    name = re.sub(r"[^a-z0-9]+", "_", ascii_name(str(text)).lower()).strip("_")
    if not name:
        return "field"
    return f"f_{name}" if name[0].isdigit() else name[:63]


def plan_import(
    source: SourceFile,
    options: ImportOptions,
    *,
    existing: LayerSpec | None,
    existing_key: str | None = None,
) -> Plan:
    """Map and convert the file's rows for ``options.layer_id`` (``existing``: its spec, None for a new layer)."""
    mode = _mode(options, existing)
    frame = source.frame
    geometry_type = existing.geometry_type if existing else _geometry_type(frame, source.file_name)
    report = ImportReport(
        layer_id=options.layer_id,
        mode=mode,
        file_name=source.file_name,
        driver=source.driver,
        source_layer=source.source_layer,
        encoding=source.encoding.name if source.encoding else None,
        encoding_how=source.encoding.how if source.encoding else None,
        crs=source.crs_name,
        crs_from=source.crs_from,
        transformation=source.transformation.name,
        transformation_accuracy_m=source.transformation.accuracy_m,
        geometry_type=geometry_type,
        new_layer=existing is None,
        rows_read=len(frame),
        dry_run=options.dry_run,
        warnings=list(source.warnings),
    )
    schema = _schema(existing) if existing else None
    plans, source_column = _column_plans(source, options, schema, report)
    targets = tuple(Column(p.target, p.type) for p in plans) if schema is None else schema
    key = options.key or (existing_key if mode == "upsert" else None)
    if key is not None and key not in {c.target for c in plans}:
        known = ", ".join(c.target for c in plans) or "none"
        raise ImportRefused(
            f"key {key!r} is not a column of the file after mapping (columns: {known}); "
            "name the key column with --key, or map it with --map FILE_COLUMN=KEY",
            report,
        )
    if mode == "upsert" and key is None:
        raise ImportRefused("--mode upsert needs --key FIELD: the column that identifies a feature", report)
    if existing is not None:
        _check_required(existing, plans, report)
    report.columns = plans
    rejected: dict[int, str] = {}
    values = _values(frame, plans, targets, rejected, existing)
    geoms = _geometries(frame, geometry_type, rejected)
    _keys(values, targets, key, rejected, report)
    sources = _row_sources(frame, source_column, options.source or source.file_name)
    rows = []
    for i in range(len(frame)):
        if i in rejected:
            continue
        rows.append((i + 1, [column[i] for column in values], sources[i], geoms[i]))
    report.rejected = [RowIssue(i + 1, reason) for i, reason in sorted(rejected.items())]
    return Plan(report, targets, rows, existing, key)


def _mode(options: ImportOptions, existing: LayerSpec | None) -> Mode:
    if existing is None:
        if options.mode not in (None, "create"):
            raise InvalidInput(
                f"no layer {options.layer_id!r} to {options.mode}: create it with --mode create (or leave --mode out)"
            )
        return "create"
    if options.mode in (None, "create"):
        raise Conflict(
            f"layer {options.layer_id!r} exists: import into it with --mode append, replace or upsert --key FIELD"
        )
    if existing.id in BUILT_IN and not existing.editable:
        maintained = ", ".join(spec.id for spec in REGISTRY.values() if spec.id in BUILT_IN and spec.editable)
        raise InvalidInput(
            f"layer {existing.id!r} is derived, reference data or has its own workflow; imports go into the "
            f"layers people maintain ({maintained}) or a new layer"
        )
    return options.mode


def _schema(spec: LayerSpec) -> tuple[Column, ...]:
    """A layer's attribute columns (no bookkeeping) with their types, from the registry's table."""
    return tuple(
        Column(str(column.name), imported.column_type(column) or "text")
        for column in spec.table.columns
        if column.name not in BOOKKEEPING
    )


def _geometry_type(frame: Any, file_name: str) -> str:
    """A new layer's geometry type from the file's: one dimension, Multi* when any feature is multi-part."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    kinds = {g.geom_type for g in geoms if g is not None and not g.is_empty}
    if not kinds:
        raise InvalidInput(f"{file_name}: no feature has a geometry")
    for layer_type in ("Point", "MultiPolygon", "LineString", "MultiLineString", "MultiPoint"):
        if kinds == {layer_type}:
            return layer_type
    if kinds <= {"Point", "MultiPoint"}:
        return "MultiPoint"
    if kinds <= {"LineString", "MultiLineString"}:
        return "MultiLineString"
    if kinds <= {"Polygon", "MultiPolygon"}:
        return "MultiPolygon"
    raise InvalidInput(
        f"{file_name} mixes geometry types ({', '.join(sorted(kinds))}): a layer holds one; split the file by type"
    )


def _column_plans(
    source: SourceFile, options: ImportOptions, schema: tuple[Column, ...] | None, report: ImportReport
) -> tuple[list[ColumnPlan], str | None]:
    """Each file column's target (and type), and the file column holding per-row sources, if any."""
    frame = source.frame
    pairs = [(column_name(c), c) for c in frame.columns if c != frame.geometry.name]
    names: dict[str, Any] = {}
    for normal, original in pairs:  # two file columns may share a name once made ASCII ('processed', 'processed_')
        names.setdefault(normal, original)
    mapping = {}
    for given, target in options.mapping.items():
        src = given if given in frame.columns else names.get(column_name(given))
        if src is None:
            listed = ", ".join(map(str, names.values()))
            raise InvalidInput(f"--map {given}={target}: the file has no column {given!r} (columns: {listed})")
        mapping[src] = target
    wanted = {c.name: c for c in schema} if schema is not None else None
    plans: list[ColumnPlan] = []
    used: set[str] = set()
    source_column = None
    for normal, original in pairs:
        if original in mapping:
            target, how = mapping[original], "--map"
        elif wanted is not None and normal in wanted:
            target, how = normal, "same name"
        elif VIETNAMESE_NAMES.get(normal) and (wanted is None or VIETNAMESE_NAMES[normal] in wanted):
            target, how = VIETNAMESE_NAMES[normal], f"Vietnamese name {normal!r}"
        elif wanted is None and normal in FILE_IDS:
            target, how = FILE_IDS[normal], "the file's own id"
        elif wanted is None:
            target, how = normal, "new column" if normal == original else f"new column (from {original!r})"
        else:
            report.ignored_columns.append(str(original))
            continue
        if target == "source":
            source_column = original
            continue
        if target in BOOKKEEPING:
            report.warnings.append(f"column {original!r} ignored: {target!r} is set by the platform")
            continue
        if wanted is not None and target not in wanted:
            raise InvalidInput(
                f"--map {original}={target}: layer {options.layer_id!r} has no column {target!r} "
                f"(columns: {', '.join(wanted)})"
            )
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", target):
            given = f"--map {original}={target}: " if how == "--map" else ""
            raise InvalidInput(
                f"{given}column name {target[:63]!r}: lower-case ASCII letters, digits and '_', a letter first"
            )
        if target in used and wanted is None and how != "--map":
            target, how = _unused(target, used), f"new column (from {original!r}; {target!r} was taken)"
        if target in used:
            report.ignored_columns.append(f"{original} (a second column for {target!r})")
            continue
        used.add(target)
        type_ = wanted[target].type if wanted is not None else _infer(frame[original], source, original)
        plans.append(ColumnPlan(str(original), target, type_, how))
    if wanted is not None:
        report.unfilled_columns = [name for name in wanted if name not in used]
    return plans, source_column


def _unused(name: str, used: set[str]) -> str:
    """``name`` with the first free suffix, for a new layer's second column of that name: 'processed_2'."""
    n = 2
    while f"{name[:58]}_{n}" in used or f"{name[:58]}_{n}" in BOOKKEEPING:
        n += 1
    return f"{name[:58]}_{n}"


def _infer(values: pd.Series, source: SourceFile, name: str) -> ColumnType:
    """A new column's type: GDAL's field type, or a date/timestamp when every text value is one."""
    ogr = source.field_types.get(name)
    if ogr == "OFTInteger" and source.field_subtypes.get(name) == "OFSTBoolean":
        return "boolean"
    kind = OGR_TYPES.get(ogr or "", "text")
    if pd.api.types.is_bool_dtype(values.dtype):
        return "boolean"
    if kind == "text":
        texts = [str(v).strip() for v in values.dropna() if str(v).strip()]
        if texts and all(ISO_DATE.match(t) for t in texts):
            return "date"
        if texts and all(ISO_DATE.match(t) or ISO_TIMESTAMP.match(t) for t in texts):
            return "timestamp"
    return kind


def _check_required(spec: LayerSpec, plans: list[ColumnPlan], report: ImportReport) -> None:
    given = {p.target for p in plans}
    required = [
        str(c.name)
        for c in spec.table.columns
        if not c.nullable and c.server_default is None and c.name not in BOOKKEEPING and not c.primary_key
    ]
    missing = [name for name in required if name not in given]
    if missing:
        raise ImportRefused(
            f"layer {spec.id!r} requires {', '.join(missing)}, which the file does not provide: "
            "map the file's columns with --map FILE_COLUMN=LAYER_COLUMN",
            report,
        )


def _values(
    frame: Any, plans: list[ColumnPlan], targets: tuple[Column, ...], rejected: dict[int, str], spec: LayerSpec | None
) -> list[list[Any]]:
    """One list of Python values per target column (None where the file gives nothing)."""
    by_target = {p.target: p for p in plans}
    lengths = {str(c.name): getattr(c.type, "length", None) for c in spec.table.columns} if spec else {}
    columns = []
    for target in targets:
        plan = by_target.get(target.name)
        if plan is None:
            columns.append([None] * len(frame))
            continue
        out = []
        for i, value in enumerate(frame[plan.source].astype(object).tolist()):
            try:
                converted = convert(value, target.type)
                limit = lengths.get(target.name)
                if limit and isinstance(converted, str) and len(converted) > limit:
                    raise ValueError(f"longer than {limit} characters")
            except (ValueError, TypeError, OverflowError) as exc:
                rejected.setdefault(i, f"{plan.source}: {str(value)[:60]!r} is not a valid {target.type} ({exc})")
                converted = None
            out.append(converted)
        columns.append(out)
    return columns


def convert(value: Any, kind: ColumnType) -> Any:
    """A file value as the Python value of a column of ``kind``; None for missing; ValueError if it cannot be."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    if kind == "text":
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, pd.Timestamp | datetime | date):
            return value.isoformat()
        return str(value)
    if kind == "integer":
        if isinstance(value, bool):
            return int(value)
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, float):
            if not number.is_integer():
                raise ValueError("not a whole number")
            number = int(number)
        number = int(number)
        if not -(2**63) <= number < 2**63:
            raise ValueError("out of range")
        return number
    if kind == "float":
        number = float(value)
        if not np.isfinite(number):
            raise ValueError("not a finite number")
        return number
    if kind == "boolean":
        if isinstance(value, bool | np.bool_):
            return bool(value)
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError("not true/false")
    if kind == "date":
        if isinstance(value, pd.Timestamp | datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return isoparse(str(value).replace("/", "-")).date()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    elif not isinstance(value, datetime):
        text = str(value)
        value = isoparse(text[:10].replace("/", "-") + text[10:])
    return value if value.tzinfo else value.replace(tzinfo=TZ)  # local times in a city file are Huế time


def _geometries(frame: Any, geometry_type: str, rejected: dict[int, str]) -> list[str | None]:
    """EWKB hex of each geometry as the layer stores it; rows that cannot be are rejected with the reason."""
    accepts = ACCEPTS[geometry_type]
    out: list[str | None] = []
    for i, geom in enumerate(np.asarray(frame.geometry.values, dtype=object)):
        if geom is None or geom.is_empty:
            rejected.setdefault(i, "no geometry")
            out.append(None)
            continue
        if geom.geom_type not in accepts:
            rejected.setdefault(i, f"a {geom.geom_type} cannot go into a {geometry_type} layer")
            out.append(None)
            continue
        if not np.isfinite(shapely.get_coordinates(geom)).all():
            rejected.setdefault(i, "coordinates outside the CRS's valid area (the transformation failed)")
            out.append(None)
            continue
        fitted = _fit(geom, geometry_type)
        if fitted is None:
            rejected.setdefault(
                i, f"a {geom.geom_type} of {len(geom.geoms)} parts cannot go into a {geometry_type} layer"
            )
            out.append(None)
            continue
        out.append(shapely.to_wkb(fitted, hex=True, include_srid=True) if fitted.has_z else _ewkb(fitted))
    return out


def _fit(geom: Any, geometry_type: str) -> Any:
    """``geom`` as ``geometry_type``: Multi* for multi layers, a single part for single ones (None: impossible)."""
    if geometry_type.startswith("Multi"):
        if geom.geom_type.startswith("Multi"):
            return geom
        return {"MultiPoint": shapely.MultiPoint, "MultiLineString": shapely.MultiLineString,
                "MultiPolygon": shapely.MultiPolygon}[geometry_type]([geom])  # fmt: skip
    if geom.geom_type.startswith("Multi"):
        return geom.geoms[0] if len(geom.geoms) == 1 else None
    return geom


def _ewkb(geom: Any) -> str:
    return str(shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True))


def _keys(
    values: list[list[Any]], targets: tuple[Column, ...], key: str | None, rejected: dict[int, str],
    report: ImportReport,
) -> None:  # fmt: skip
    """Reject rows with an empty key, and every repeat of a key after its first row."""
    if key is None:
        return
    column = values[[c.name for c in targets].index(key)]
    first: dict[Any, int] = {}
    for i, value in enumerate(column):
        if i in rejected:
            continue
        if value is None:
            rejected[i] = f"empty key {key!r}"
            report.empty_keys.append(i + 1)
        elif value in first:
            rejected[i] = f"duplicate key {key} = {value!r} (first at row {first[value] + 1})"
            report.duplicate_keys.append(i + 1)
        else:
            first[value] = i


def _row_sources(frame: Any, column: str | None, default: str) -> list[str]:
    if column is None:
        return [default] * len(frame)
    return [str(v).strip() if isinstance(v, str) and v.strip() else default for v in frame[column].astype(object)]


# --- the transaction ------------------------------------------------------------------------


async def import_file(
    conn: AsyncConnection, source: SourceFile, options: ImportOptions, *, actor: Actor
) -> ImportReport:
    """Validate and write ``source`` into ``options.layer_id`` in one transaction; return the report.

    Raises ImportRefused (with its report) and writes nothing when no row can be imported; a
    dry run returns the report of the same work and rolls it back.
    """
    check_options(options)
    async with conn.transaction(force_rollback=options.dry_run):
        row = None if options.layer_id in BUILT_IN else await imported.imported_row(conn, options.layer_id)
        existing = REGISTRY[options.layer_id] if options.layer_id in BUILT_IN else None
        if row is not None:
            existing = imported.spec_from_row(row)
        plan = plan_import(source, options, existing=existing, existing_key=row["key_field"] if row else None)
        report = plan.report
        if report.new_layer:
            await imported.create_layer(
                conn,
                layer_id=options.layer_id,
                title=options.title or options.layer_id.replace("_", " ").capitalize(),
                title_vi=options.title_vi or options.title or options.layer_id,
                description=options.description,
                group=options.group,
                geometry_type=report.geometry_type,
                columns=plan.target_columns,
                key_field=plan.key,
                source=options.source or source.file_name,
                licence=options.licence,
                created_by=actor.name,
            )
        await _stage(conn, plan)
        await _validate(conn, plan, allow_outside=options.allow_outside)
        if not await _staged_rows(conn):
            raise ImportRefused(
                f"nothing to import: all {report.rows_read} rows were rejected "
                f"(first: row {report.rejected[0].row}, {report.rejected[0].reason})"
                if report.rejected
                else "nothing to import",
                report,
            )
        await _write(conn, plan)
        if report.rows_imported == 0:
            raise ImportRefused("nothing imported: every row was refused by the layer's rules", report)
        logged = await _log(conn, plan, options, actor)
        report.import_id = logged
        if not report.new_layer and row is not None:
            await conn.execute(load_sql("imports/touch_layer"), {"id": options.layer_id})
        await imported.notify(conn, options.layer_id)
        report.written = not options.dry_run
    return report


async def _staged_rows(conn: AsyncConnection) -> int:
    """Staged rows still to write (not rejected)."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM import_stage WHERE rejected IS NULL")
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _stage(conn: AsyncConnection, plan: Plan) -> None:
    """The converted rows in a temporary table (dropped at commit), by COPY."""
    names = [c.name for c in plan.target_columns]
    definition = sql.SQL("").join(
        sql.SQL(", {} {}").format(sql.Identifier(c.name), sql.SQL(imported.PG_TYPES[c.type]))
        for c in plan.target_columns
    )
    await conn.execute(sql.SQL(load_sql("imports/stage")).format(columns=definition))
    copy_columns = sql.SQL(", ").join(map(sql.Identifier, ["row_no", *names, "source", "geom"]))
    statement = sql.SQL("COPY import_stage ({}) FROM STDIN").format(copy_columns)
    async with conn.cursor() as cur, cur.copy(statement) as copy:
        for row_no, values, row_source, geom in plan.rows:
            await copy.write_row((row_no, *values, row_source, geom))


async def _validate(conn: AsyncConnection, plan: Plan, *, allow_outside: bool) -> None:
    """Repair invalid geometries, reject what cannot be stored, find features outside the city."""
    report = plan.report
    single = not report.geometry_type.startswith("Multi")
    statement = sql.SQL(load_sql("imports/repair")).format(
        dimension=sql.Literal(DIMENSION[report.geometry_type]),
        single=sql.Literal(single),
        geometry_type=sql.Literal(report.geometry_type.upper()),
    )
    async with conn.cursor() as cur:
        await cur.execute(statement)
        for row_no, reason, rejected in await cur.fetchall():
            if rejected:
                report.rejected.append(RowIssue(row_no, rejected))
            else:
                report.repaired.append(RowIssue(row_no, f"invalid geometry repaired: {reason}"))
        await cur.execute(load_sql("imports/outside_city"))
        outside = [row_no for (row_no,) in await cur.fetchall()]
    report.outside_city = outside
    if outside and not allow_outside:
        await conn.execute("UPDATE import_stage SET rejected = 'outside the city' WHERE row_no = ANY(%s)", (outside,))
        report.rejected += [
            RowIssue(row_no, "outside the city (no ward or commune intersects it)") for row_no in outside
        ]
    elif outside:
        report.warnings.append(f"{len(outside)} features lie outside the city (kept: --allow-outside)")
    report.rejected.sort(key=lambda issue: issue.row)


async def _write(conn: AsyncConnection, plan: Plan) -> None:
    """Write the staged rows that passed in one statement per step; row by row when the layer refuses some."""
    report = plan.report
    table = sql.Identifier(report.layer_id)
    key = sql.Identifier(plan.key) if plan.key else None
    if report.mode == "replace":
        cur = await conn.execute(sql.SQL("DELETE FROM {}").format(table))
        report.rows_replaced = max(cur.rowcount, 0)
    if report.mode == "upsert":
        assert key is not None
        await conn.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(table))
        await conn.execute(sql.SQL(load_sql("imports/mark_existing")).format(table=table, key=key))
    try:
        async with conn.transaction():  # a savepoint: on a refusal, come back here and go row by row
            for statement in _write_statements(plan, rows=sql.SQL("TRUE")):
                await conn.execute(statement)
    except (errors.IntegrityError, errors.DataError) as exc:
        report.warnings.append(f"the layer refused some rows ({exc.diag.message_primary}); they are listed as rejected")
        body = sql.SQL(";\n            ").join(_write_statements(plan, rows=sql.SQL("s.row_no = r.row_no")))
        await conn.execute(sql.SQL(load_sql("imports/row_by_row")).format(statements=body))
        async with conn.cursor() as cur:
            await cur.execute("SELECT row_no, rejected FROM import_stage WHERE rejected LIKE 'refused by the layer:%%'")
            refused = [RowIssue(row_no, reason) for row_no, reason in await cur.fetchall()]
        report.rejected = sorted([*report.rejected, *refused], key=lambda issue: issue.row)
    async with conn.cursor() as cur:
        await cur.execute("SELECT count(*), count(*) FILTER (WHERE existed) FROM import_stage WHERE rejected IS NULL")
        counts = await cur.fetchone()
    assert counts is not None
    report.rows_imported, report.rows_updated = counts


def _write_statements(plan: Plan, *, rows: sql.Composable) -> list[sql.Composed]:
    """The write statements of the plan's mode, for the staged rows ``rows`` selects."""
    names = [c.name for c in plan.target_columns]
    parts = {
        "table": sql.Identifier(plan.report.layer_id),
        "columns": sql.SQL(", ").join(map(sql.Identifier, [*names, "source", "synthetic", "geom"])),
        "values": sql.SQL(", ").join([*(sql.Identifier("s", n) for n in names), sql.SQL("s.source, false, s.geom")]),
        "rows": rows,
    }
    if plan.report.mode != "upsert":
        return [sql.SQL(load_sql("imports/insert")).format(**parts)]
    assert plan.key is not None
    parts["key"] = sql.Identifier(plan.key)
    return [
        sql.SQL(load_sql("imports/update_by_key")).format(**parts),
        sql.SQL(load_sql("imports/insert_missing")).format(**parts),
    ]


async def _log(conn: AsyncConnection, plan: Plan, options: ImportOptions, actor: Actor) -> int:
    report = plan.report
    async with conn.cursor() as cur:
        await cur.execute(
            load_sql("imports/insert_import"),
            {"layer_id": report.layer_id, "mode": report.mode, "file_name": report.file_name,
             "source": options.source or report.file_name, "licence": options.licence, "crs": report.crs,
             "transformation": report.transformation, "rows_read": report.rows_read,
             "rows_imported": report.rows_imported, "rows_rejected": report.rows_rejected,
             "report": _jsonb(report), "actor": actor.name, "role": actor.role},
        )  # fmt: skip
        row = await cur.fetchone()
    assert row is not None
    await record(conn, actor=actor, action="import", object_type="layer", object_id=report.layer_id,
                 details={"import_id": row[0], "mode": report.mode, "file": report.file_name,
                          "rows_imported": report.rows_imported, "rows_rejected": report.rows_rejected})  # fmt: skip
    return int(row[0])


def _jsonb(report: ImportReport) -> Jsonb:
    return Jsonb(report.as_dict(), dumps=lambda value: json.dumps(value, default=str))
