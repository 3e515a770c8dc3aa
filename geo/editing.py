"""Editing layer features (OGC API Features Part 4): create, replace, patch, delete, with history.

Only layers the registry marks ``editable`` take writes, and only from staff whose role holds
``layers.edit`` over them (a city-wide role, or the department that owns the layer): derived
layers (KPIs, hot spots, storm exposure, flood scenarios, rasters, the planning conflicts) and
citizen reports (their own workflow) refuse every write. A feature is validated as an import
would be: known properties of the column's type, required ones present, a geometry of the
layer's type (repaired with ST_MakeValid when that keeps the type, refused otherwise) inside the
city; the table's own constraints have the last word, and their refusals name the property.

Writes are conditional: the ``ETag`` of a feature is the MD5 of its GeoJSON as the fast path
serves it (``geo.ogc.features.fetch_item``), and a replace, patch or delete must send it back in
``If-Match`` (412 when the feature changed since). Every change is one transaction: the row, a
``feature_history`` version (who, when, the whole state before and after) and an audit row; the
layer's statement trigger bumps its version, so tiles and counts follow at once.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from geo import audit
from geo.auth.policy import Principal, require_on_layer
from geo.auth.roles import EDIT_LAYERS, RESTORE_FEATURES
from geo.db import fetch_all, fetch_one, load_sql
from geo.errors import (
    Conflict,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from geo.ogc.features import InvalidParameter, column_kinds, fetch_item, typed_value
from geo.registry import REGISTRY, LayerSpec
from geo.times import parse_instant

EDIT_SOURCE = "HueGIS staff edit (OGC API Features Part 4)"
# Kept by the platform: sent values are ignored (QGIS sends back every attribute it read).
SERVER_FIELDS = frozenset({"updated_at", "synthetic"})
# Derived from the geometry on every write that sets one: the ward/commune at its centre.
WARD_FIELD = "ward_code"
READ_METHODS = ("GET", "HEAD", "OPTIONS")
COLLECTION_METHODS = (*READ_METHODS, "POST")
ITEM_METHODS = (*READ_METHODS, "PUT", "PATCH", "DELETE")
# The GeoJSON types a layer of each registry geometry type accepts (check_geometry.sql fits them to it).
ACCEPTED_TYPES: dict[str, tuple[str, ...]] = {
    "Point": ("Point",),
    "MultiPoint": ("Point", "MultiPoint"),
    "LineString": ("LineString",),
    "MultiLineString": ("LineString", "MultiLineString"),
    "Polygon": ("Polygon",),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
}
INT_RANGES = {sa.SmallInteger: 2**15, sa.BigInteger: 2**63, sa.Integer: 2**31}  # subclasses first


@dataclass(frozen=True)
class Written:
    """The outcome of a write: the feature's id, its new version, and (unless deleted) its ETag and GeoJSON."""

    feature_id: str
    version: int
    etag: str | None = None
    feature: bytes | None = None


def etag(feature: bytes) -> str:
    """The strong entity tag of a feature's GeoJSON text (as the fast path serves it)."""
    return f'"{hashlib.md5(feature, usedforsecurity=False).hexdigest()}"'


def _layer(layer_id: str) -> LayerSpec:
    layer = REGISTRY.get(layer_id)
    if layer is None:
        raise NotFound(f"no layer {layer_id!r}")
    return layer


def allowed_methods(layer_id: str, *, item: bool) -> tuple[str, ...]:
    """The HTTP methods a layer's items (``item=False``) or one of its features accept."""
    if not _layer(layer_id).editable:
        return READ_METHODS
    return ITEM_METHODS if item else COLLECTION_METHODS


def editable_layer(layer_id: str) -> LayerSpec:
    """The layer, if it takes writes; ``MethodNotAllowed`` (with ``Allow``) naming why not."""
    layer = _layer(layer_id)
    if not layer.editable:
        why = (
            "citizen reports change only through their workflow (POST /api/reports/{code}/actions)"
            if layer.id == "citizen_reports"
            else "it is derived or reference data, not maintained by editing"
        )
        raise MethodNotAllowed(f"layer {layer.id} is read-only: {why}", READ_METHODS)
    return layer


def authorize(principal: Principal, layer_id: str, permission: str = EDIT_LAYERS) -> LayerSpec:
    """The editable layer, if ``principal`` may act on it: 405 when read-only, 403 out of scope."""
    layer = editable_layer(layer_id)
    require_on_layer(principal, permission, layer.id, layer.owner)
    return layer


def check_if_match(if_match: str | None, *, required: bool) -> None:
    """``PreconditionRequired`` when a conditional write comes without ``If-Match`` and one is required."""
    if required and not (if_match and if_match.strip()):
        raise PreconditionRequired(
            "send If-Match with the feature's ETag (from GET .../items/{id}): it shows what you are changing "
            "is what you read"
        )


# --- validation ---------------------------------------------------------------------------------


@cache
def _columns(layer: LayerSpec) -> dict[str, sa.Column]:
    """The properties a client may write: published columns less the id, geometry and server-kept ones."""
    writable = set(layer.fields) - SERVER_FIELDS - {layer.id_field, WARD_FIELD, "geom"}
    return {str(c.name): c for c in layer.table.columns if c.name in writable}


def _required(column: sa.Column) -> bool:
    return not column.nullable and column.server_default is None and str(column.name) != "source"


def _value(column: sa.Column, kind: type | None, value: Any) -> Any:
    """A JSON value as the column's type (``kind``); ``InvalidInput`` naming the property otherwise."""
    name = str(column.name)
    if value is None:
        if not column.nullable and name != "source":
            raise InvalidInput(f"properties.{name}: required, cannot be null")
        return None
    problem = f"properties.{name}: expected {_kind_name(kind)}, got {json.dumps(value, ensure_ascii=False)[:80]}"
    if kind is bool:
        if not isinstance(value, bool):
            raise InvalidInput(problem)
        return value
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(problem)
        limit = next((n for t, n in INT_RANGES.items() if isinstance(column.type, t)), 2**63)
        if not -limit <= value < limit:
            raise InvalidInput(f"properties.{name}: {value} is out of range (±{limit})")
        return value
    if kind in (float, Decimal):
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise InvalidInput(problem)
        return value
    if kind is str:
        if not isinstance(value, str):
            raise InvalidInput(problem)
        length = getattr(column.type, "length", None)
        if length is not None and len(value) > length:
            raise InvalidInput(f"properties.{name}: {len(value)} characters, at most {length}")
        if "\x00" in value:
            raise InvalidInput(f"properties.{name}: text must not contain NUL (0x00) characters")
        return value
    if kind is date:
        if not isinstance(value, str):
            raise InvalidInput(problem)
        try:
            return typed_value(date, value, f"properties.{name}")
        except InvalidParameter:
            raise InvalidInput(f"properties.{name}: {value!r} is not a date such as 2026-01-31") from None
    if kind is datetime:
        if not isinstance(value, str):
            raise InvalidInput(problem)
        return parse_instant(f"properties.{name}", value)
    raise InvalidInput(f"properties.{name}: this property cannot be edited here")


def _kind_name(kind: type | None) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", Decimal: "a number", str: "text",
             date: "a date (YYYY-MM-DD)", datetime: "a date-time (RFC 3339)"}  # fmt: skip
    return names.get(kind, "a value") if kind else "a value"


def _properties(layer: LayerSpec, given: Any, *, complete: bool) -> dict[str, Any]:
    """Validated writable properties; with ``complete``, every one (missing: null, or 400 if required)."""
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise InvalidInput(f"properties: expected an object, got {type(given).__name__}")
    columns = _columns(layer)
    ignored = SERVER_FIELDS | {layer.id_field, "id", WARD_FIELD}
    unknown = sorted(set(given) - set(columns) - ignored)
    if unknown:
        raise InvalidInput(
            f"properties: unknown {', '.join(map(repr, unknown))}; {layer.id} has {', '.join(sorted(columns))}"
        )
    kinds = column_kinds(layer)
    clean = {name: _value(columns[name], kinds[name], value) for name, value in given.items() if name in columns}
    if complete:
        missing = sorted(n for n, c in columns.items() if _required(c) and clean.get(n) is None)
        if missing:
            raise InvalidInput(f"properties: missing required {', '.join(missing)}")
        clean = {name: clean.get(name) for name in columns}
    if "source" in clean and clean["source"] is None:
        clean["source"] = EDIT_SOURCE  # provenance is never empty
    return clean


@dataclass(frozen=True)
class Geometry:
    """A checked geometry: EWKB in the layer's type, its ward, and why it was repaired (if it was)."""

    ewkb: bytes
    ward_code: str | None
    repaired: str | None


async def _geometry(conn: AsyncConnection, layer: LayerSpec, geometry: Any) -> Geometry:
    """Check a GeoJSON geometry for ``layer``; ``InvalidInput`` naming the problem."""
    if not isinstance(geometry, Mapping) or not isinstance(geometry.get("type"), str):
        raise InvalidInput("geometry: expected a GeoJSON geometry object with a type (null is not allowed)")
    accepted = ACCEPTED_TYPES.get(layer.geometry_type, (layer.geometry_type,))
    if geometry["type"] not in accepted:
        raise InvalidInput(f"geometry: {layer.id} holds {layer.geometry_type} features, got a {geometry['type']}")
    _check_positions(geometry.get("coordinates"))
    dimension = 0 if "Point" in layer.geometry_type else 1 if "Line" in layer.geometry_type else 2
    minx, miny, maxx, maxy = layer.bbox
    params = {"geojson": json.dumps(geometry), "dimension": dimension, "multi": layer.geometry_type.startswith("Multi"),
              "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}  # fmt: skip
    try:
        async with conn.transaction():  # a savepoint: an unreadable geometry must not abort the caller's
            row = await fetch_one(conn, "editing/check_geometry", params)
    except (psycopg.errors.DataException, psycopg.errors.InternalError) as exc:
        raise InvalidInput(f"geometry: not readable GeoJSON ({exc.diag.message_primary})") from exc
    if row is None:
        raise NotFound("the city outline is not loaded: run `huegis load --only admin_units`")
    if row["empty"] or not row["fitted_valid"]:
        raise InvalidInput(
            f"geometry: invalid {geometry['type']} ({row['reason']}) that cannot be repaired into a "
            f"{layer.geometry_type}"
        )
    if not row["meets_city"]:
        raise InvalidInput(
            f"geometry: lies {row['metres_from_city'] / 1000:.1f} km outside Thành phố Huế "
            "(coordinates are longitude, latitude in WGS 84)"
        )
    if not row["inside_box"]:
        raise InvalidInput(f"geometry: reaches outside the extent of {layer.id} {list(layer.bbox)}")
    return Geometry(bytes(row["ewkb"]), row["ward_code"], None if row["valid"] else row["reason"])


def _envelope(body: Any, fid: str | None, what: str) -> Mapping[str, Any]:
    """A Feature-shaped JSON object (one feature); its ``id``, if any, must be ``fid``."""
    if not isinstance(body, Mapping):
        raise InvalidInput(f"send {what}")
    if body.get("type", "Feature") != "Feature":
        raise InvalidInput(f"type: expected 'Feature', got {body.get('type')!r} (one feature per request)")
    if fid is not None and body.get("id") is not None and str(body["id"]) != fid:
        raise InvalidInput(f"id: the body's id {body['id']!r} is not the feature {fid!r} of the URL")
    return body


def _check_positions(coordinates: Any) -> None:
    """``InvalidInput`` unless ``coordinates`` nest lists of [longitude, latitude] in WGS 84 degrees."""
    if isinstance(coordinates, list) and coordinates and not isinstance(coordinates[0], list):
        lon, lat = [*coordinates, None, None][:2]
        numbers = all(isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in (lon, lat))
        if not numbers or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput(f"geometry: {coordinates!r} is not a position: longitude, latitude in WGS 84 degrees")
        return
    if not isinstance(coordinates, list) or not coordinates:
        raise InvalidInput("geometry: coordinates must be (nested) lists of [longitude, latitude] positions")
    for part in coordinates:
        _check_positions(part)


def _feature_parts(body: Any, *, fid: str | None) -> tuple[Any, Any]:
    """The properties and geometry of a whole GeoJSON Feature (POST, PUT)."""
    feature = _envelope(body, fid, "a GeoJSON Feature object")
    if feature.get("geometry") is None:
        raise InvalidInput("geometry: missing (every feature has one)")
    return feature.get("properties"), feature["geometry"]


# --- SQL ----------------------------------------------------------------------------------------


@cache
def _template(name: str) -> sql.SQL:
    text = "\n".join(line for line in load_sql(f"editing/{name}").splitlines() if not line.startswith("--"))
    return sql.SQL(text.strip())


def _statement(layer: LayerSpec, name: str, **parts: sql.Composable) -> sql.Composed:
    return _template(name).format(table=sql.Identifier(layer.table_name), id=sql.Identifier(layer.id_field), **parts)


def _values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {f"p_{name}": value for name, value in values.items()}


async def _state(conn: AsyncConnection, layer: LayerSpec, key: Any) -> dict[str, Any] | None:
    cur = await conn.execute(_statement(layer, "state"), {"id": key})
    row = await cur.fetchone()
    return None if row is None else row[0]


def _key(layer: LayerSpec, fid: str) -> Any:
    """The feature id typed like its column; ``NotFound`` when it cannot be one (as for reads)."""
    try:
        return typed_value(column_kinds(layer)[layer.id_field], fid, "id")
    except InvalidParameter:
        raise NotFound(f"no feature {fid!r} in {layer.id}") from None


async def _current(conn: AsyncConnection, layer: LayerSpec, fid: str, if_match: str | None) -> tuple[Any, bytes]:
    """Lock the feature and check ``If-Match`` against it; its typed key and current GeoJSON text."""
    key = _key(layer, fid)
    cur = await conn.execute(_statement(layer, "lock"), {"id": key})
    item = await fetch_item(conn, layer, fid) if await cur.fetchone() else None
    if item is None:
        raise NotFound(f"no feature {fid!r} in {layer.id}")
    if if_match is not None and not _matches(if_match, etag(item.feature)):
        raise PreconditionFailed(
            f"feature {fid} of {layer.id} changed since it was read (its ETag is now {etag(item.feature)}); "
            "read it again and reapply the change"
        )
    return key, item.feature


def _matches(if_match: str, current: str) -> bool:
    """RFC 9110 If-Match: '*' or a list of strong entity tags, one of which is ``current``."""
    tags = [tag.strip() for tag in if_match.split(",")]
    return "*" in tags or current in tags


async def _record(
    conn: AsyncConnection,
    layer: LayerSpec,
    fid: str,
    action: str,
    principal: Principal,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    restored_from: int | None = None,
    note: str | None = None,
) -> int:
    """A history version and an audit row for one change (in the caller's transaction); the version."""
    row = await fetch_one(
        conn,
        "editing/history_insert",
        {"layer": layer.id, "feature": fid, "action": action, "actor": principal.username, "role": principal.role,
         "before": Jsonb(before) if before else None, "after": Jsonb(after) if after else None,
         "restored_from": restored_from, "note": note},
    )  # fmt: skip
    assert row is not None
    details = {"layer": layer.id, "version": row["version"], **({"note": note} if note else {})}
    await audit.record(conn, actor=principal.actor, action=f"feature_{action}", object_type="feature",
                       object_id=f"{layer.id}/{fid}", details=details)  # fmt: skip
    return row["version"]


def _refusal(layer: LayerSpec, exc: psycopg.Error) -> Exception:
    """A constraint's refusal as a domain error naming the property (the transaction is rolled back)."""
    diag = exc.diag
    constraint = diag.constraint_name or ""
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return Conflict(f"{diag.message_detail or diag.message_primary}: another feature of {layer.id} has it")
    if isinstance(exc, psycopg.errors.ForeignKeyViolation):
        return InvalidInput(f"{diag.message_detail or diag.message_primary} ({constraint})")
    if isinstance(exc, psycopg.errors.CheckViolation):
        rule = next(
            (str(c.sqltext) for c in layer.table.constraints
             if isinstance(c, sa.CheckConstraint) and constraint.endswith(str(c.name))),
            diag.message_primary,
        )  # fmt: skip
        return InvalidInput(f"properties: {constraint.removeprefix(f'ck_{layer.table_name}_')} refuses them ({rule})")
    if isinstance(exc, psycopg.errors.NotNullViolation):
        return InvalidInput(f"properties.{diag.column_name}: required, cannot be null")
    return InvalidInput(f"properties: {diag.message_primary}")


REFUSALS = (psycopg.errors.IntegrityError, psycopg.errors.DataException)


# --- writes -------------------------------------------------------------------------------------


@asynccontextmanager
async def _writing(conn: AsyncConnection, layer: LayerSpec) -> AsyncIterator[None]:
    """One transaction; a table constraint's refusal becomes a domain error naming the property."""
    try:
        async with conn.transaction():
            yield
    except REFUSALS as exc:
        raise _refusal(layer, exc) from exc


async def _recorded(
    conn: AsyncConnection,
    layer: LayerSpec,
    fid: str,
    key: Any,
    action: str,
    principal: Principal,
    before: dict[str, Any] | None,
    **details: Any,
) -> Written:
    """Record the change just made (history and audit) and read the feature back as the fast path serves it."""
    after = await _state(conn, layer, key)
    version = await _record(conn, layer, fid, action, principal, before, after, **details)
    item = await fetch_item(conn, layer, fid)
    assert item is not None
    return Written(fid, version, etag(item.feature), item.feature)


async def create_feature(conn: AsyncConnection, *, layer_id: str, body: Any, principal: Principal) -> Written:
    """Add a feature (its id is assigned here); 400 naming the problem, and nothing written, when invalid."""
    layer = authorize(principal, layer_id)
    given, geometry = _feature_parts(body, fid=None)
    values = _properties(layer, given, complete=True)
    values.setdefault("source", EDIT_SOURCE)
    async with _writing(conn, layer):
        checked = await _geometry(conn, layer, geometry)
        if WARD_FIELD in layer.table.columns:
            values[WARD_FIELD] = checked.ward_code
        columns = sql.SQL(", ").join(map(sql.Identifier, values))
        placeholders = sql.SQL(", ").join(sql.Placeholder(f"p_{name}") for name in values)
        statement = _statement(layer, "insert", columns=columns, values=placeholders)
        cur = await conn.execute(statement, {**_values(values), "geom": checked.ewkb})
        created = await cur.fetchone()
        assert created is not None
        written = await _recorded(conn, layer, str(created[0]), created[0], "create", principal, None,
                                  note=_repair_note(checked))  # fmt: skip
    return written


async def replace_feature(
    conn: AsyncConnection, *, layer_id: str, fid: str, body: Any, principal: Principal, if_match: str | None,
    require_match: bool = True,
) -> Written:  # fmt: skip
    """Replace a feature's properties and geometry (PUT): what the body omits becomes null."""
    layer = authorize(principal, layer_id)
    check_if_match(if_match, required=require_match)
    given, geometry = _feature_parts(body, fid=fid)
    values = _properties(layer, given, complete=True)
    return await _update(conn, layer, fid, "replace", values, geometry, principal, if_match)


async def patch_feature(
    conn: AsyncConnection, *, layer_id: str, fid: str, body: Any, principal: Principal, if_match: str | None,
    require_match: bool = True,
) -> Written:  # fmt: skip
    """Change some properties and/or the geometry (PATCH, JSON merge patch: null clears a property)."""
    layer = authorize(principal, layer_id)
    check_if_match(if_match, required=require_match)
    patch = _envelope(body, fid, 'a JSON merge patch: {"properties": {...}} and/or {"geometry": {...}}')
    extra = sorted(set(patch) - {"type", "id", "properties", "geometry", "bbox"})
    if extra:
        raise InvalidInput(f"unknown member(s) {', '.join(map(repr, extra))}; a patch has properties and geometry")
    if "geometry" in patch and patch["geometry"] is None:
        raise InvalidInput("geometry: null would remove it, and every feature has one")
    values = _properties(layer, patch.get("properties"), complete=False)
    if not values and patch.get("geometry") is None:
        raise InvalidInput("nothing to change: send properties and/or a geometry")
    return await _update(conn, layer, fid, "patch", values, patch.get("geometry"), principal, if_match)


async def _update(
    conn: AsyncConnection,
    layer: LayerSpec,
    fid: str,
    action: str,
    values: dict[str, Any],
    geometry: Any,
    principal: Principal,
    if_match: str | None,
) -> Written:
    async with _writing(conn, layer):
        key, _ = await _current(conn, layer, fid, if_match)
        before = await _state(conn, layer, key)
        assignments: list[sql.Composable] = [
            sql.SQL("{} = {}").format(sql.Identifier(n), sql.Placeholder(f"p_{n}")) for n in values
        ]
        params: dict[str, Any] = {**_values(values), "id": key}
        note = None
        if geometry is not None:
            checked = await _geometry(conn, layer, geometry)
            note = _repair_note(checked)
            assignments.append(sql.SQL("geom = ST_GeomFromEWKB(%(geom)s)"))
            params["geom"] = checked.ewkb
            if WARD_FIELD in layer.table.columns:
                assignments.append(sql.SQL("{} = %(ward)s").format(sql.Identifier(WARD_FIELD)))
                params["ward"] = checked.ward_code
        await conn.execute(_statement(layer, "update", assignments=sql.SQL(", ").join(assignments)), params)
        written = await _recorded(conn, layer, fid, key, action, principal, before, note=note)
    return written


async def delete_feature(
    conn: AsyncConnection, *, layer_id: str, fid: str, principal: Principal, if_match: str | None,
    require_match: bool = True,
) -> Written:  # fmt: skip
    """Remove a feature (its last state stays in the history, restorable by a GIS administrator)."""
    layer = authorize(principal, layer_id)
    check_if_match(if_match, required=require_match)
    async with _writing(conn, layer):
        key, _ = await _current(conn, layer, fid, if_match)
        before = await _state(conn, layer, key)
        await conn.execute(_statement(layer, "delete"), {"id": key})
        version = await _record(conn, layer, fid, "delete", principal, before, None)
    return Written(fid, version)


def _repair_note(checked: Geometry) -> str | None:
    return f"geometry repaired with ST_MakeValid ({checked.repaired})" if checked.repaired else None


# --- history ------------------------------------------------------------------------------------


async def feature_history(conn: AsyncConnection, *, layer_id: str, fid: str, principal: Principal) -> dict[str, Any]:
    """Every change of a feature, oldest first: who, when, and its published state before and after."""
    layer = authorize(principal, layer_id)
    versions = await fetch_all(conn, "editing/history", {"layer": layer.id, "feature": fid})
    if not versions:
        raise NotFound(f"feature {fid} of {layer.id} has no recorded change (it was never edited here)")
    published = {*layer.fields, layer.id_field}
    for version in versions:
        for side in ("before", "after"):
            state = version[side]
            if state is not None:
                state["properties"] = {k: v for k, v in state["properties"].items() if k in published}
    return {"layer": layer.id, "feature": fid, "versions": versions}


async def restore_version(
    conn: AsyncConnection, *, layer_id: str, fid: str, version: int, principal: Principal, if_match: str | None = None
) -> Written:
    """Put a feature back as it was after ``version`` (recreating it if it was deleted since); a new version."""
    layer = authorize(principal, layer_id, RESTORE_FEATURES)
    key = _key(layer, fid)
    async with _writing(conn, layer):
        recorded = await fetch_one(
            conn, "editing/history_version", {"layer": layer.id, "feature": fid, "version": version},
            missing=f"feature {fid} of {layer.id} has no version {version}",
        )  # fmt: skip
        state = recorded["after"]
        if state is None:
            raise InvalidInput(
                f"version {version} deleted feature {fid}: restore version {version - 1}, the one before it"
            )
        cur = await conn.execute(_statement(layer, "lock"), {"id": key})
        exists = await cur.fetchone() is not None
        if exists:
            await _current(conn, layer, fid, if_match)
        before = await _state(conn, layer, key) if exists else None
        # An update keeps the id; an insert brings it back.
        skipped = {"geom", layer.id_field} if exists else {"geom"}
        names = sql.SQL(", ").join(sql.Identifier(str(c.name)) for c in layer.table.columns if c.name not in skipped)
        params = {"properties": Jsonb(state["properties"]), "geometry": json.dumps(state["geometry"]), "id": key}
        await conn.execute(_statement(layer, "restore_update" if exists else "restore_insert", columns=names), params)
        written = await _recorded(conn, layer, fid, key, "restore", principal, before, restored_from=version,
                                  note=None if exists else f"recreated from version {version}")  # fmt: skip
    return written
