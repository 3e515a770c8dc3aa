"""Tiles: a version counter per layer, bumped by a statement trigger on every change.

The tile cache keys tiles by these versions, so a committed INSERT, UPDATE, DELETE or TRUNCATE
on a layer invalidates its cached tiles at once, whichever path wrote it (loaders, the report
API, psql). Statement-level: one bump per statement, not per row. Written by hand (the report
and disaster branches, 0002 and 0003, grow from 0001 at the same time).

Later layers call ``SELECT huegis_track_layer('their_table')`` in their own migration.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The registry's layers when this revision was written (table name = layer id).
LAYER_TABLES = (
    "admin_units",
    "planning_zones",
    "land_parcels",
    "construction_permits",
    "tourism_sites",
    "health_facilities",
    "schools",
    "roads",
    "water_areas",
    "rivers",
    "places",
    "storm_tracks",
    "dams",
    "citizen_reports",
    "disaster_zones",
)

# The row lock taken by the upsert serialises writers of one layer until they commit, so a
# reader never sees a version whose data is not yet visible.
BUMP_FUNCTION = """
CREATE FUNCTION huegis_bump_layer_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO layer_versions AS v (layer_id, version, changed_at)
    VALUES (TG_TABLE_NAME, 1, clock_timestamp())
    ON CONFLICT (layer_id) DO UPDATE SET version = v.version + 1, changed_at = clock_timestamp();
    RETURN NULL;
END
$$
"""

TRACK_FUNCTION = """
CREATE FUNCTION huegis_track_layer(layer regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER layer_version_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION huegis_bump_layer_version()', layer);
    INSERT INTO layer_versions (layer_id)
    SELECT relname FROM pg_class WHERE oid = layer
    ON CONFLICT (layer_id) DO NOTHING;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "layer_versions",
        sa.Column("layer_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("layer_id", name=op.f("pk_layer_versions")),
    )
    op.execute(BUMP_FUNCTION)
    op.execute(TRACK_FUNCTION)
    for table in LAYER_TABLES:
        op.execute(sa.text("SELECT huegis_track_layer(CAST(:t AS regclass))").bindparams(t=table))


def downgrade() -> None:
    # CASCADE drops every layer_version_bump trigger, including those later migrations added.
    op.execute("DROP FUNCTION huegis_track_layer(regclass)")
    op.execute("DROP FUNCTION huegis_bump_layer_version() CASCADE")
    op.drop_table("layer_versions")
