"""Hot spots: hotspot_runs and the published layers hotspot_cells, emerging_hotspots, forecast_cells.

Written by hand. Merges 0004 too, for ``huegis_track_layer`` (the tile cache's version counter).

Revision ID: 0008
Revises: 0007, 0004
Create Date: 2026-11-28 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: tuple[str, ...] = ("0007", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERIODS = "period IN ('day', 'week', 'month')"
PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating", "historical")
PATTERN_VALUES = ", ".join(f"'{p}_{k}'" for k in ("hot", "cold") for p in PATTERNS) + ", 'no_pattern'"
LAYERS = ("hotspot_cells", "emerging_hotspots", "forecast_cells")


def _cell_columns(table: str) -> list:
    """The columns every hot-spot layer shares (LayerMixin + HotspotCellsMixin)."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("cell_m", sa.Float(), nullable=False),
        sa.Column("cell_i", sa.Integer(), nullable=False),
        sa.Column("cell_j", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("report_category", sa.Text(), nullable=True),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, dimension=2, spatial_index=False,
                                   from_text="ST_GeomFromEWKT", name="geometry", nullable=False), nullable=False),
        sa.CheckConstraint(PERIODS, name=op.f(f"ck_{table}_period_vocabulary")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f(f"ck_{table}_geom_valid")),
        sa.ForeignKeyConstraint(["run_id"], ["hotspot_runs.id"], name=op.f(f"fk_{table}_run_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "hotspot_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("cell_m", sa.Float(), nullable=False),
        sa.Column("report_category", sa.Text(), nullable=True),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("study", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("backtest", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("chosen_model", sa.String(length=32), nullable=False),
        sa.CheckConstraint(PERIODS, name=op.f("ck_hotspot_runs_period_vocabulary")),
        sa.CheckConstraint("cell_m > 0", name=op.f("ck_hotspot_runs_cell_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_runs")),
    )
    op.create_geospatial_table(
        "hotspot_cells",
        *_cell_columns("hotspot_cells"),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("gi_z", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("gi_class", sa.SmallInteger(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.CheckConstraint("gi_class BETWEEN -3 AND 3", name=op.f("ck_hotspot_cells_class_range")),
        sa.CheckConstraint("window_end > window_start", name=op.f("ck_hotspot_cells_window_ordered")),
    )
    op.create_geospatial_table(
        "emerging_hotspots",
        *_cell_columns("emerging_hotspots"),
        sa.Column("slices", sa.SmallInteger(), nullable=False),
        sa.Column("first_slice", sa.Date(), nullable=False),
        sa.Column("last_slice", sa.Date(), nullable=False),
        sa.Column("pattern", sa.String(length=24), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("hot_slices", sa.SmallInteger(), nullable=False),
        sa.Column("cold_slices", sa.SmallInteger(), nullable=False),
        sa.Column("final_z", sa.Float(), nullable=False),
        sa.Column("trend_tau", sa.Float(), nullable=False),
        sa.Column("trend_p", sa.Float(), nullable=False),
        sa.CheckConstraint(f"pattern IN ({PATTERN_VALUES})", name=op.f("ck_emerging_hotspots_pattern_vocabulary")),
        sa.CheckConstraint("last_slice >= first_slice", name=op.f("ck_emerging_hotspots_slices_ordered")),
    )
    op.create_geospatial_table(
        "forecast_cells",
        *_cell_columns("forecast_cells"),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("top_share", sa.Float(), nullable=False),
        sa.CheckConstraint("expected >= 0", name=op.f("ck_forecast_cells_expected_positive")),
        sa.CheckConstraint("period_end > period_start", name=op.f("ck_forecast_cells_period_ordered")),
    )
    for table in LAYERS:
        op.create_geospatial_index(f"idx_{table}_geom", table, ["geom"], unique=False, postgresql_using="gist",
                                   postgresql_ops={})
        op.create_index(op.f(f"ix_{table}_run_id"), table, ["run_id"], unique=False)
        op.execute(sa.text("SELECT huegis_track_layer(CAST(:t AS regclass))").bindparams(t=table))
    op.create_index(op.f("ix_emerging_hotspots_pattern"), "emerging_hotspots", ["pattern"], unique=False)
    op.create_index(op.f("ix_forecast_cells_period_start"), "forecast_cells", ["period_start"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_forecast_cells_period_start"), table_name="forecast_cells")
    op.drop_index(op.f("ix_emerging_hotspots_pattern"), table_name="emerging_hotspots")
    for table in reversed(LAYERS):
        op.drop_index(op.f(f"ix_{table}_run_id"), table_name=table)
        op.drop_geospatial_index(f"idx_{table}_geom", table_name=table, postgresql_using="gist", column_name="geom")
        op.drop_geospatial_table(table)
        op.execute(sa.text("DELETE FROM layer_versions WHERE layer_id = :t").bindparams(t=table))
    op.drop_table("hotspot_runs")
