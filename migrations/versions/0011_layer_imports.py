"""City files in and out: the registry of imported layers and the log of every import.

Written by hand from geo.models (ImportedLayer, LayerImport). Imported layers' own tables are
created by the imports; downgrading drops them with the registry that lists them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAYER_GROUPS = ("admin", "thematic", "reference", "operations")
IMPORT_GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "MultiPolygon")
IMPORT_MODES = ("create", "append", "replace", "upsert")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "imported_layers",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_vi", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("layer_group", sa.String(length=16), server_default="thematic", nullable=False),
        sa.Column("geometry_type", sa.String(length=16), nullable=False),
        sa.Column("columns", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("key_field", sa.Text(), nullable=True),
        sa.Column(
            "style", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("licence", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("id ~ '^[a-z][a-z0-9_]{1,62}$'", name=op.f("ck_imported_layers_id_format")),
        sa.CheckConstraint(_one_of("layer_group", LAYER_GROUPS), name=op.f("ck_imported_layers_layer_group_vocabulary")),
        sa.CheckConstraint(
            _one_of("geometry_type", IMPORT_GEOMETRIES), name=op.f("ck_imported_layers_geometry_type_vocabulary")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_layers")),
    )
    op.create_table(
        "layer_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.String(length=63), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("licence", sa.Text(), nullable=False),
        sa.Column("crs", sa.Text(), nullable=True),
        sa.Column("transformation", sa.Text(), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column(
            "report", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(_one_of("mode", IMPORT_MODES), name=op.f("ck_layer_imports_mode_vocabulary")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer_imports")),
    )
    op.create_index(op.f("ix_layer_imports_layer_id"), "layer_imports", ["layer_id"])


def downgrade() -> None:
    # The layers the imports created go with the registry that lists them.
    op.execute(
        "DO $$ DECLARE layer text; BEGIN "
        "FOR layer IN SELECT id FROM imported_layers LOOP "
        "EXECUTE format('DROP TABLE IF EXISTS %I', layer); DELETE FROM layer_versions WHERE layer_id = layer; "
        "END LOOP; END $$"
    )
    op.drop_table("layer_imports")
    op.drop_table("imported_layers")
