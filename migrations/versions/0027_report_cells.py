"""Report cells: citizen reports counted per ~300 m grid cell, for the low-zoom report tiles.

``report_cells`` holds the counts per WebMercatorQuad zoom-17 tile (x, y) and status group, and
their sums per zoom-14 tile (8 x 8 cells, for tiles of zoom 8 and less);
``report_cells_dirty`` the cells whose reports changed since the ``report-cells`` job last
counted them. Statement triggers with transition tables mark the cells (one INSERT per
statement, also for COPY); an UPDATE marks only reports that moved or changed status group.
A TRUNCATE of the reports empties both. ``report_cells`` is tracked in ``layer_versions``:
the job's writes change the low-zoom tiles' cache key. Built here from the reports present.

Written by hand from geo.models (ReportCell, ReportCellDirty).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The cell of a point: the zoom-17 tile holding it (2^17 cells across the Web Mercator square).
CELL_FUNCTION = """
CREATE FUNCTION huegis_report_cell(p geometry, OUT x integer, OUT y integer)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT floor((ST_X(m) + 20037508.342789244) / 305.748113140705)::integer,
           floor((20037508.342789244 - ST_Y(m)) / 305.748113140705)::integer
    FROM ST_Transform(p, 3857) AS m
$$
"""

# The groups the low-zoom tiles count: open, resolved (or closed), other (rejected, duplicate).
GROUP_FUNCTION = """
CREATE FUNCTION huegis_report_status_group(status text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN status IN ('received', 'assigned', 'in_progress', 'reopened') THEN 'open'
                WHEN status IN ('resolved', 'closed') THEN 'resolved'
                ELSE 'other' END
$$
"""

# DO UPDATE, not DO NOTHING: it locks a cell already marked until the writer commits, so the job's
# DELETE of that mark waits and its recount (a later statement) sees the writer's report.
MARK_FUNCTION = """
CREATE FUNCTION huegis_mark_report_cells() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM report_cells_dirty;
        DELETE FROM report_cells;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO report_cells_dirty AS d (x, y)
        SELECT DISTINCT cell.x, cell.y FROM new_rows AS r CROSS JOIN LATERAL huegis_report_cell(r.geom) AS cell
        ORDER BY cell.x, cell.y  -- one lock order for every writer
        ON CONFLICT (x, y) DO UPDATE SET marked_at = d.marked_at;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO report_cells_dirty AS d (x, y)
        SELECT DISTINCT cell.x, cell.y FROM old_rows AS r CROSS JOIN LATERAL huegis_report_cell(r.geom) AS cell
        ORDER BY cell.x, cell.y
        ON CONFLICT (x, y) DO UPDATE SET marked_at = d.marked_at;
    ELSE  -- UPDATE: only reports that moved or changed status group (most workflow steps do not)
        INSERT INTO report_cells_dirty AS d (x, y)
        SELECT DISTINCT cell.x, cell.y
        FROM old_rows AS o
        JOIN new_rows AS n ON n.id = o.id
        CROSS JOIN LATERAL (VALUES (o.geom), (n.geom)) AS g (geom)
        CROSS JOIN LATERAL huegis_report_cell(g.geom) AS cell
        WHERE NOT ST_OrderingEquals(o.geom, n.geom)
           OR huegis_report_status_group(o.status) <> huegis_report_status_group(n.status)
        ORDER BY cell.x, cell.y
        ON CONFLICT (x, y) DO UPDATE SET marked_at = d.marked_at;
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = """
CREATE TRIGGER report_cells_mark_insert AFTER INSERT ON citizen_reports
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION huegis_mark_report_cells();
CREATE TRIGGER report_cells_mark_update AFTER UPDATE ON citizen_reports
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION huegis_mark_report_cells();
CREATE TRIGGER report_cells_mark_delete AFTER DELETE ON citizen_reports
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION huegis_mark_report_cells();
CREATE TRIGGER report_cells_mark_truncate AFTER TRUNCATE ON citizen_reports
    FOR EACH STATEMENT EXECUTE FUNCTION huegis_mark_report_cells();
"""

# As geo/sql/reports/cells_rebuild.sql and cells_rebuild_coarse.sql (the migration keeps its own
# copy: later edits of those files must not change what this revision did).
BUILD = (
    """
INSERT INTO report_cells (zoom, x, y, reports, open_reports, resolved_reports, geom)
SELECT 17, cell.x, cell.y, count(*),
       count(*) FILTER (WHERE huegis_report_status_group(r.status) = 'open'),
       count(*) FILTER (WHERE huegis_report_status_group(r.status) = 'resolved'),
       ST_Transform(ST_Centroid(ST_TileEnvelope(17, cell.x, cell.y)), 4326)
FROM citizen_reports AS r
CROSS JOIN LATERAL huegis_report_cell(r.geom) AS cell
GROUP BY cell.x, cell.y
""",
    """
INSERT INTO report_cells (zoom, x, y, reports, open_reports, resolved_reports, geom)
SELECT 14, x >> 3, y >> 3, sum(reports), sum(open_reports), sum(resolved_reports),
       ST_Transform(ST_Centroid(ST_TileEnvelope(14, x >> 3, y >> 3)), 4326)
FROM report_cells WHERE zoom = 17
GROUP BY x >> 3, y >> 3
""",
)


def upgrade() -> None:
    op.create_table(
        "report_cells",
        sa.Column("zoom", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("x", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("y", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("open_reports", sa.Integer(), nullable=False),
        sa.Column("resolved_reports", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(geometry_type="POINT", srid=4326, dimension=2, spatial_index=False, from_text="ST_GeomFromEWKT",
                     name="geometry", nullable=False),
            nullable=False,
        ),
        sa.CheckConstraint(
            "reports > 0 AND open_reports >= 0 AND resolved_reports >= 0"
            " AND open_reports + resolved_reports <= reports",
            name=op.f("ck_report_cells_counts_consistent"),
        ),
        sa.CheckConstraint("zoom IN (14, 17)", name=op.f("ck_report_cells_zoom_levels")),
        sa.PrimaryKeyConstraint("zoom", "x", "y", name=op.f("pk_report_cells")),
    )
    op.create_geospatial_index("idx_report_cells_geom", "report_cells", ["geom"], unique=False, postgresql_using="gist",
                               postgresql_ops={})  # fmt: skip
    op.create_table(
        "report_cells_dirty",
        sa.Column("x", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("y", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("x", "y", name=op.f("pk_report_cells_dirty")),
    )
    op.execute(CELL_FUNCTION)
    op.execute(GROUP_FUNCTION)
    op.execute(MARK_FUNCTION)
    op.execute(TRIGGERS)
    for statement in BUILD:
        op.execute(statement)
    op.execute("SELECT huegis_track_layer('report_cells')")


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER report_cells_mark_{event} ON citizen_reports")
    op.execute("DROP FUNCTION huegis_mark_report_cells()")
    op.execute("DROP FUNCTION huegis_report_status_group(text)")
    op.execute("DROP FUNCTION huegis_report_cell(geometry)")
    op.execute("DELETE FROM layer_versions WHERE layer_id = 'report_cells'")
    op.drop_table("report_cells_dirty")
    op.drop_geospatial_index("idx_report_cells_geom", table_name="report_cells", postgresql_using="gist",
                             column_name="geom")  # fmt: skip
    op.drop_geospatial_table("report_cells")
