"""Planning conflicts of filed and deleted reports: one refresh per statement, not one per row.

A construction-violation report rewrote its planning-conflict row from a row trigger: one
function call, advisory lock and spatial check per report. A bulk load (the national history's
COPY of millions of reports) spent most of its time there: 200,000 reports took 42 s to write
with the row triggers and 17 s without them. The insert and delete triggers now run once per
statement over its transition table (as construction_permits' already do), and the refresh
joins the ids instead of searching an array per row. Intake files one report per statement, so
it does the same work as before; a statement without construction violations does none (and
takes no lock). Updates stay row triggers: PostgreSQL has no transition tables for an
``UPDATE OF`` column list.

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0016: the category checked, the reports still being handled, a permit's radius (m).
REPORT_CATEGORY = "construction_violation"
OPEN_REPORT = "status NOT IN ('closed', 'rejected', 'duplicate')"
RADIUS_M = 50


def _refresh(chosen: str, in_ids: str) -> str:
    """``huegis_refresh_planning_reports`` over the reports ``chosen`` (a FROM item ``r``) yields;
    ``in_ids`` tests a planning-conflict row's ``subject_id`` against ``report_ids``."""
    return f"""
CREATE OR REPLACE FUNCTION huegis_refresh_planning_reports(report_ids bigint[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- Writers of the layer take turns: each rewrite then starts from the last committed one.
    PERFORM pg_advisory_xact_lock(hashtext('planning_conflicts'));
    DELETE FROM planning_conflicts
     WHERE subject_type = 'report' AND (report_ids IS NULL OR subject_id {in_ids});
    INSERT INTO planning_conflicts (subject_type, subject_id, subject_code, building_use, plan_code, zone_type,
                                    parcel_no, land_use, use_verdict, land_verdict, verdict, reason, permit_no,
                                    permit_distance_m, ward_code, source, synthetic, geom)
    SELECT 'report', r.id, r.code, c.building_use, c.plan_code, c.zone_type, c.parcel_no, c.land_use,
           coalesce(c.use_verdict, 'no_permit'), c.land_verdict, c.verdict, c.reason, c.permit_no,
           c.permit_distance_m, r.admin_unit_code, 'HueGIS planning-conflict check of citizen_reports',
           r.synthetic, r.geom
      FROM {chosen}
     CROSS JOIN LATERAL huegis_planning_report(r.geom, {RADIUS_M}) AS c
     WHERE r.category = '{REPORT_CATEGORY}' AND r.{OPEN_REPORT} AND c.verdict <> 'allowed';
END
$$
"""


# 0016's text, to restore on downgrade.
BY_ARRAY = _refresh(
    "(SELECT * FROM citizen_reports WHERE report_ids IS NULL OR id = ANY (report_ids)) AS r", "= ANY (report_ids)"
)
# All reports when NULL; else the ids joined (each found by its primary key), so a million ids
# cost a million index probes, not a million array searches per row.
BY_JOIN = _refresh(
    "(SELECT * FROM citizen_reports WHERE report_ids IS NULL"
    " UNION ALL SELECT cr.* FROM unnest(report_ids) AS u(id) JOIN citizen_reports cr ON cr.id = u.id) AS r",
    "IN (SELECT unnest(report_ids))",
)

STATEMENT_FUNCTION = f"""
CREATE FUNCTION huegis_planning_reports_written() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT id FROM new_reports WHERE category = '{REPORT_CATEGORY}');
    ELSE
        ids := ARRAY(SELECT id FROM old_reports WHERE category = '{REPORT_CATEGORY}');
    END IF;
    IF cardinality(ids) > 0 THEN  -- no construction violation: nothing to check, no lock taken
        PERFORM huegis_refresh_planning_reports(ids);
    END IF;
    RETURN NULL;
END
$$
"""
STATEMENT_TRIGGERS = {
    "planning_report_insert": "INSERT ON citizen_reports REFERENCING NEW TABLE AS new_reports",
    "planning_report_delete": "DELETE ON citizen_reports REFERENCING OLD TABLE AS old_reports",
}
ROW_TRIGGERS = {  # 0016's
    "planning_report_insert": f"INSERT ON citizen_reports FOR EACH ROW WHEN (NEW.category = '{REPORT_CATEGORY}')",
    "planning_report_delete": f"DELETE ON citizen_reports FOR EACH ROW WHEN (OLD.category = '{REPORT_CATEGORY}')",
}


def upgrade() -> None:
    op.execute(BY_JOIN)
    op.execute(STATEMENT_FUNCTION)
    for name, event in STATEMENT_TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON citizen_reports")
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} FOR EACH STATEMENT EXECUTE FUNCTION huegis_planning_reports_written()"
        )


def downgrade() -> None:
    for name, event in ROW_TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON citizen_reports")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} EXECUTE FUNCTION huegis_planning_report_changed()")
    op.execute("DROP FUNCTION huegis_planning_reports_written()")
    op.execute(BY_ARRAY)
