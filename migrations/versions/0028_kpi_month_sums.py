"""Whole-month KPIs from kpi_unit_month: exact month sums, the unit shapes, built and dirty months.

Written by hand from geo.models (KpiUnitMonth, KpiUnitShape, KpiMonth, KpiDirtyMonth). Statement
triggers on citizen_reports append the unit-months a write touched to kpi_dirty_months (in the
writer's transaction); a TRUNCATE forgets every built month. Existing kpi_unit_month rows lack the new
sums: no month counts as built until `huegis kpis refresh` runs again.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_WHERE = "status IN ('received', 'assigned', 'in_progress', 'reopened')"
# The month a report counts in (Huế time), as in geo/sql/analytics/kpis.sql.
MONTH = "date_trunc('month', {t}.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
# The columns a KPI reads: an update changing none of them touches no month.
KPI_COLUMNS = "received_at, admin_unit_code, status, due_at, resolved_at, extension_status, rating, reopened_count"
TOUCHED = f"""
CREATE FUNCTION huegis_kpi_months_touched() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM kpi_months;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO kpi_dirty_months (unit_code, month)
        SELECT DISTINCT n.admin_unit_code, {MONTH.format(t="n")} FROM new_reports n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO kpi_dirty_months (unit_code, month)
        SELECT DISTINCT o.admin_unit_code, {MONTH.format(t="o")} FROM old_reports o;
    ELSE
        INSERT INTO kpi_dirty_months (unit_code, month)
        SELECT DISTINCT t.unit_code, t.month
        FROM old_reports o
        JOIN new_reports n USING (id)
        CROSS JOIN LATERAL (VALUES (o.admin_unit_code, {MONTH.format(t="o")}),
                                   (n.admin_unit_code, {MONTH.format(t="n")})) AS t(unit_code, month)
        WHERE ({", ".join(f"o.{c.strip()}" for c in KPI_COLUMNS.split(","))})
              IS DISTINCT FROM ({", ".join(f"n.{c.strip()}" for c in KPI_COLUMNS.split(","))});
    END IF;
    RETURN NULL;
END
$$
"""
TRIGGERS = {
    "kpi_months_insert": "INSERT ON citizen_reports REFERENCING NEW TABLE AS new_reports",
    "kpi_months_update": "UPDATE ON citizen_reports REFERENCING OLD TABLE AS old_reports NEW TABLE AS new_reports",
    "kpi_months_delete": "DELETE ON citizen_reports REFERENCING OLD TABLE AS old_reports",
    "kpi_months_truncate": "TRUNCATE ON citizen_reports",
}


def upgrade() -> None:
    op.add_column("kpi_unit_month", sa.Column("reopened", sa.Integer(), nullable=True))
    op.add_column("kpi_unit_month", sa.Column("rating_sum", sa.BigInteger(), nullable=True))
    op.add_column("kpi_unit_month", sa.Column("hours_to_resolve", postgresql.ARRAY(sa.Float()), nullable=True))
    # Polygons out of line (each row repeats its ward's, ~9 kB): summing months reads rows of a few
    # hundred bytes, not 2-3 per page; the layer's readers fetch the polygons as before.
    op.execute("ALTER TABLE kpi_unit_month ALTER COLUMN geom SET STORAGE EXTERNAL")
    op.create_geospatial_table(
        "kpi_unit_shapes",
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, dimension=2, spatial_index=False,
                                   from_text="ST_GeomFromEWKT", name="geometry", nullable=False), nullable=False),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_kpi_unit_shapes_geom_valid")),
        sa.ForeignKeyConstraint(["unit_code"], ["admin_units.code"], name=op.f("fk_kpi_unit_shapes_unit_code")),
        sa.PrimaryKeyConstraint("unit_code", name=op.f("pk_kpi_unit_shapes")),
    )  # fmt: skip
    op.create_geospatial_index("idx_kpi_unit_shapes_geom", "kpi_unit_shapes", ["geom"], unique=False,
                               postgresql_using="gist", postgresql_ops={})  # fmt: skip
    op.create_table(
        "kpi_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_kpi_months")),
    )
    op.create_table(
        "kpi_dirty_months",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("unit_code", sa.String(length=5), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_dirty_months")),
    )
    op.create_index(op.f("ix_kpi_dirty_months_month"), "kpi_dirty_months", ["month"], unique=False)
    op.create_index("ix_citizen_reports_open_received_at", "citizen_reports", ["received_at"],
                    postgresql_where=sa.text(OPEN_WHERE))  # fmt: skip
    op.execute(TOUCHED)
    for name, event in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} FOR EACH STATEMENT EXECUTE FUNCTION huegis_kpi_months_touched()"
        )


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON citizen_reports")
    op.execute("DROP FUNCTION IF EXISTS huegis_kpi_months_touched()")
    op.drop_index("ix_citizen_reports_open_received_at", table_name="citizen_reports")
    op.drop_index(op.f("ix_kpi_dirty_months_month"), table_name="kpi_dirty_months")
    op.drop_table("kpi_dirty_months")
    op.drop_table("kpi_months")
    op.drop_geospatial_index("idx_kpi_unit_shapes_geom", table_name="kpi_unit_shapes", postgresql_using="gist",
                             column_name="geom")  # fmt: skip
    op.drop_geospatial_table("kpi_unit_shapes")
    op.execute("ALTER TABLE kpi_unit_month ALTER COLUMN geom SET STORAGE MAIN")
    op.drop_column("kpi_unit_month", "hours_to_resolve")
    op.drop_column("kpi_unit_month", "rating_sum")
    op.drop_column("kpi_unit_month", "reopened")
