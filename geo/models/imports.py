"""City files brought into the platform: the layers they created, and every import's report.

An imported layer's own table (``id``, its attributes, ``source``, ``synthetic``, ``updated_at``,
``geom``) is created by the import itself (``geo/imported.py``), not by a migration: the city
decides its columns. Its row here is the registry entry the running app publishes from.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, now_column, one_of

LAYER_GROUPS = ("admin", "thematic", "reference", "operations")
IMPORT_GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "MultiPolygon")
IMPORT_MODES = ("create", "append", "replace", "upsert")
# A layer id is a table name, an OGC collection id and a URL segment: lower-case ASCII.
LAYER_ID_CHECK = "id ~ '^[a-z][a-z0-9_]{1,62}$'"


class ImportedLayer(Base):
    """The registry entry of a layer created by an import (the built-in ones live in geo/registry.py)."""

    __tablename__ = "imported_layers"
    __table_args__ = (
        sa.CheckConstraint(LAYER_ID_CHECK, name="id_format"),
        one_of("layer_group", LAYER_GROUPS),
        one_of("geometry_type", IMPORT_GEOMETRIES),
    )
    id: Mapped[str] = mapped_column(sa.String(63), primary_key=True)
    title: Mapped[str] = mapped_column(sa.Text, nullable=False)
    title_vi: Mapped[str] = mapped_column(sa.Text, nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, server_default="")
    layer_group: Mapped[str] = mapped_column(sa.String(16), nullable=False, server_default="thematic")
    geometry_type: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    # [{"name": ..., "type": "text|integer|float|boolean|date|timestamp"}], in the table's order.
    columns: Mapped[list] = mapped_column(JSONB, nullable=False)
    key_field: Mapped[str | None] = mapped_column(sa.Text)
    style: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb"))
    source: Mapped[str] = mapped_column(sa.Text, nullable=False)
    licence: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_by: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class LayerImport(Base):
    """One import into a layer (built-in or imported): who, when, from which file, and its report."""

    __tablename__ = "layer_imports"
    __table_args__ = (one_of("mode", IMPORT_MODES),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    layer_id: Mapped[str] = mapped_column(sa.String(63), nullable=False, index=True)
    mode: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    file_name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    source: Mapped[str] = mapped_column(sa.Text, nullable=False)
    licence: Mapped[str] = mapped_column(sa.Text, nullable=False)
    crs: Mapped[str | None] = mapped_column(sa.Text)
    transformation: Mapped[str | None] = mapped_column(sa.Text)
    rows_read: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    rows_imported: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    rows_rejected: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    report: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb"))
    actor: Mapped[str] = mapped_column(sa.Text, nullable=False)
    role: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    imported_at: Mapped[datetime] = now_column()
