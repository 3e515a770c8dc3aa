"""Layers the city imported from its own files: their tables and registry entries in the database.

An import with a new layer id creates the table (bookkeeping columns around the city's
attributes, one geometry type, a GiST index, the ``layer_versions`` trigger) and its row in
``imported_layers`` in the importing transaction, then notifies ``huegis_layers``. Every running
app listens on that channel and merges the entries into the one registry (``geo.registry``), so
the layer is published (OGC API Features, tiles, maps) without a restart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

import sqlalchemy as sa
from geoalchemy2 import Geometry
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from geo import models
from geo.db import fetch_all, load_sql
from geo.errors import Conflict, InvalidInput, NotFound
from geo.registry import BUILT_IN, REGISTRY, LayerSpec, Style, merge_imported

ColumnType = Literal["text", "integer", "float", "boolean", "date", "timestamp"]
# What each attribute type is in PostgreSQL and in SQLAlchemy (the registry's column kinds).
PG_TYPES: dict[str, str] = {
    "text": "text",
    "integer": "bigint",
    "float": "double precision",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamptz",
}
SA_TYPES: dict[str, Any] = {
    "text": sa.Text,
    "integer": sa.BigInteger,
    "float": sa.Float,
    "boolean": sa.Boolean,
    "date": sa.Date,
    "timestamp": lambda: sa.DateTime(timezone=True),
}
# Columns every layer has, written by the platform: a file's columns of these names are not attributes.
BOOKKEEPING = ("id", "source", "synthetic", "updated_at", "geom")
CHANNEL = "huegis_layers"
TABLE_COMMENT = "huegis imported layer"
# Distinct, legible on the basemap; a new layer's colour is picked from its id.
PALETTE = ("#6a3d9a", "#1f78b4", "#33a02c", "#e31a1c", "#ff7f00", "#b15928", "#a6761d", "#e7298a", "#008080")


@dataclass(frozen=True)
class Column:
    """One attribute column of an imported layer."""

    name: str
    type: ColumnType

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type}


def column_type(column: sa.Column) -> ColumnType | None:
    """What kind of attribute a table column holds; None for what is none of them (geometry, arrays, JSON)."""
    try:
        kind = column.type.python_type
    except NotImplementedError:  # geometry
        return None
    if kind is bool:
        return "boolean"
    if kind is int:
        return "integer"
    if kind is float or kind is Decimal:
        return "float"
    if kind is datetime:
        return "timestamp"
    if kind is date:
        return "date"
    return "text" if kind is str else None


def check_layer_id(layer_id: str) -> None:
    """InvalidInput unless ``layer_id`` can be a table name, a collection id and a URL segment."""
    if not (2 <= len(layer_id) <= 63 and layer_id[0].isascii() and layer_id[0].isalpha() and layer_id[0].islower()):
        raise InvalidInput(f"layer id {layer_id!r}: 2-63 characters starting with a lower-case letter (a-z)")
    if any(not (c.isascii() and (c.islower() or c.isdigit() or c == "_")) for c in layer_id):
        raise InvalidInput(f"layer id {layer_id!r}: only lower-case ASCII letters, digits and '_'")
    if layer_id.startswith(("pg_", "sql_")):
        raise InvalidInput(f"layer id {layer_id!r}: names starting with pg_ or sql_ are reserved by PostgreSQL")


def default_style(layer_id: str, geometry_type: str) -> Style:
    """A colour picked from the layer's id (stable), drawn as the registry's layers are."""
    color = PALETTE[int(hashlib.sha1(layer_id.encode()).hexdigest(), 16) % len(PALETTE)]
    if geometry_type == "MultiPolygon":
        return Style(color=color, fill_opacity=0.35)
    if geometry_type in ("LineString", "MultiLineString"):
        return Style(color=color, weight=2)
    return Style(color=color, radius=4)


def layer_table(layer_id: str, columns: tuple[Column, ...], geometry_type: str) -> sa.Table:
    """The SQLAlchemy description of an imported layer's table (its own metadata: not a migration's)."""
    return sa.Table(
        layer_id,
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, primary_key=True),
        *(sa.Column(column.name, SA_TYPES[column.type]()) for column in columns),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("synthetic", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", Geometry(geometry_type.upper(), srid=models.SRID, spatial_index=False), nullable=False),
    )


def columns_of(row: Mapping[str, Any]) -> tuple[Column, ...]:
    return tuple(Column(c["name"], c["type"]) for c in row["columns"])


def spec_from_row(row: Mapping[str, Any]) -> LayerSpec:
    """The registry entry of an imported layer (the same object while the row is unchanged)."""
    return _spec(json.dumps(row, sort_keys=True, default=str))


@lru_cache(maxsize=512)
def _spec(row_json: str) -> LayerSpec:
    row = json.loads(row_json)
    columns = columns_of(row)
    table = layer_table(row["id"], columns, row["geometry_type"])
    # A mapped class on the models' base, but its table in its own metadata: Alembic never sees it.
    model = type(f"Imported_{row['id']}_{hashlib.sha1(row_json.encode()).hexdigest()[:8]}", (models.Base,),
                 {"__table__": table})  # fmt: skip
    style = row.get("style") or {}
    return LayerSpec(
        id=row["id"],
        title=row["title"],
        title_vi=row["title_vi"],
        description=row["description"] or row["title"],
        group=row["layer_group"],
        model=model,
        geometry_type=row["geometry_type"],
        fields=(*(column.name for column in columns), "source", "synthetic", "updated_at"),
        keywords=("imported", "city data"),
        style=Style(**style) if style else default_style(row["id"], row["geometry_type"]),
        source=row["source"],
        licence=row["licence"],
        editable=True,  # the city's own data, maintained by GIS administrators (no department owns it)
    )


async def read_imported(conn: AsyncConnection) -> list[LayerSpec]:
    """Every imported layer's spec, from the database."""
    return [spec_from_row(row) for row in await fetch_all(conn, "imports/layers")]


async def sync_registry(conn: AsyncConnection) -> tuple[set[str], set[str]]:
    """Merge the database's imported layers into this process's registry; (changed, removed) ids."""
    return merge_imported(await read_imported(conn))


async def imported_row(conn: AsyncConnection, layer_id: str) -> dict[str, Any] | None:
    """An imported layer's registry row, locked for the caller's transaction; None if there is none."""
    rows = await fetch_all(conn, "imports/layer", {"id": layer_id})
    return rows[0] if rows else None


async def create_layer(
    conn: AsyncConnection,
    *,
    layer_id: str,
    title: str,
    title_vi: str,
    description: str,
    group: str,
    geometry_type: str,
    columns: tuple[Column, ...],
    key_field: str | None,
    source: str,
    licence: str,
    created_by: str,
) -> dict[str, Any]:
    """Create an imported layer's table and registry entry in the caller's transaction; return the entry."""
    check_layer_id(layer_id)
    if layer_id in BUILT_IN:
        raise Conflict(f"{layer_id!r} is a built-in layer: import into it with --mode append, replace or upsert")
    if await _table_exists(conn, layer_id):
        raise Conflict(f"a table named {layer_id!r} already exists; choose another layer id")
    table = sql.Identifier(layer_id)
    # Each attribute on its own line, ending with the comma before the bookkeeping columns.
    attributes = sql.Composed(
        [
            sql.SQL("\n    {} {},").format(sql.Identifier(column.name), sql.SQL(PG_TYPES[column.type]))
            for column in columns
        ]
    )
    statement = sql.SQL(load_sql("imports/create_table")).format(
        table=table,
        columns=attributes,
        geometry_type=sql.SQL(geometry_type),
        valid=sql.Identifier(f"ck_{layer_id}_geom_valid"[:63]),
        gist=sql.Identifier(f"ix_{layer_id}_geom"[:63]),
        regclass=sql.Literal(layer_id),
    )
    await conn.execute(statement)
    if key_field:
        await conn.execute(
            sql.SQL(load_sql("imports/unique_key")).format(
                index=sql.Identifier(f"uq_{layer_id}_{key_field}"[:63]), table=table, key=sql.Identifier(key_field)
            )
        )
    entry = {
        "id": layer_id,
        "title": title,
        "title_vi": title_vi,
        "description": description,
        "layer_group": group,
        "geometry_type": geometry_type,
        "columns": [column.as_dict() for column in columns],
        "key_field": key_field,
        "style": default_style(layer_id, geometry_type).__dict__,
        "source": source,
        "licence": licence,
        "created_by": created_by,
    }
    await conn.execute(load_sql("imports/insert_layer"),
                       {**entry, "columns": Jsonb(entry["columns"]), "style": Jsonb(entry["style"])})  # fmt: skip
    return entry


async def drop_layer(conn: AsyncConnection, layer_id: str) -> None:
    """Drop an imported layer (table and registry entry) in the caller's transaction; built-in ones cannot be."""
    if layer_id in BUILT_IN:
        raise Conflict(f"{layer_id!r} is a built-in layer: it cannot be removed")
    rows = await fetch_all(conn, "imports/delete_layer", {"id": layer_id})
    if not rows:
        known = ", ".join(sorted(set(REGISTRY) - BUILT_IN)) or "none"
        raise NotFound(f"no imported layer {layer_id!r}; imported layers here: {known}")
    await conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(layer_id)))
    await conn.execute("DELETE FROM layer_versions WHERE layer_id = %s", (layer_id,))
    # Its features' edit history goes with it: a new layer of the same id numbers its features afresh.
    await conn.execute("DELETE FROM feature_history WHERE layer_id = %s", (layer_id,))
    await notify(conn, layer_id)


async def notify(conn: AsyncConnection, layer_id: str) -> None:
    """Tell running apps that an imported layer changed (sent when the caller's transaction commits)."""
    await conn.execute(load_sql("imports/notify"), {"id": layer_id})


async def _table_exists(conn: AsyncConnection, name: str) -> bool:
    cur = await conn.execute("SELECT to_regclass(format('public.%%I', %s::text)) IS NOT NULL", (name,))
    row = await cur.fetchone()
    return bool(row and row[0])
