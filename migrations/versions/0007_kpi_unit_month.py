"""Operations centre: the kpi_unit_month choropleth layer.

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-27 21:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0007"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("received", "processed", "resolved", "on_time", "late_with_extension", "late", "rated", "satisfied",
          "backlog", "overdue")
SHARES = ("processed_share", "on_time_share", "satisfied_share", "mean_rating", "median_hours_to_resolve",
          "reports_per_10k")


def upgrade() -> None:
    op.create_geospatial_table(
        "kpi_unit_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("unit_name", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        *[sa.Column(name, sa.Float(), nullable=True) for name in SHARES],
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, dimension=2, spatial_index=False,
                                   from_text="ST_GeomFromEWKT", name="geometry", nullable=False), nullable=False),
        sa.CheckConstraint("received >= 0 AND processed <= received", name=op.f("ck_kpi_unit_month_counts_consistent")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_kpi_unit_month_geom_valid")),
        sa.ForeignKeyConstraint(["unit_code"], ["admin_units.code"], name=op.f("fk_kpi_unit_month_unit_code")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_unit_month")),
    )
    op.create_geospatial_index("idx_kpi_unit_month_geom", "kpi_unit_month", ["geom"], unique=False,
                               postgresql_using="gist", postgresql_ops={})
    op.create_index(op.f("ix_kpi_unit_month_month"), "kpi_unit_month", ["month"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_kpi_unit_month_month"), table_name="kpi_unit_month")
    op.drop_geospatial_index("idx_kpi_unit_month_geom", table_name="kpi_unit_month", postgresql_using="gist",
                             column_name="geom")
    op.drop_geospatial_table("kpi_unit_month")
