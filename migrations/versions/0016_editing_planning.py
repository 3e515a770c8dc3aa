"""Editing history (feature_history) and the planning-conflict check (planning_rules, planning_conflicts).

Written by hand from geo.models (FeatureChange, PlanningRule, PlanningConflict).

The conflicts layer is kept by triggers, whichever path writes (the editing API, the loaders, the
report intake, psql): a statement on planning_zones, land_parcels or planning_rules rewrites it
(every permit and open report: 0.35-1 s for Huế's 5,500 permits); one on construction_permits
rewrites the rows of the permits it touched and of the reports within 50 m of them (a few ms for
one permit); a construction-violation report rewrites its own row when it is filed, moved, re-categorised or
changes status. The checks themselves are SQL functions, so the staff report view
(geo/sql/planning/report.sql) and the layer read the same rules the same way.

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EDIT_ACTIONS = "action IN ('create', 'replace', 'patch', 'delete', 'restore')"
CHECK_VERDICTS = "verdict IN ('allowed', 'unknown', 'conditional', 'no_permit', 'conflict')"
REPORT_CATEGORY = "construction_violation"
# Reports still being handled (the conflicts layer shows these; every report's check is on its staff view).
OPEN_REPORT = "status NOT IN ('closed', 'rejected', 'duplicate')"
# Permits that still authorise building.
LIVE_PERMIT = "status IN ('issued', 'under_construction', 'completed')"
# A live permit this close (metres, on the ellipsoid) covers a reported construction site.
RADIUS_M = 50

FUNCTIONS = [
    # The rule for a use in a zone type; 'unknown' with no zone, no use or no rule.
    """
CREATE FUNCTION huegis_planning_verdict(zone_type text, subject text, use text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN zone_type IS NULL OR use IS NULL THEN 'unknown' ELSE coalesce(
        (SELECT r.verdict FROM planning_rules r
          WHERE r.zone_type = huegis_planning_verdict.zone_type AND r.subject = huegis_planning_verdict.subject
            AND r.use = huegis_planning_verdict.use), 'unknown') END
$$
""",
    # The most serious of some verdicts (NULLs ignored).
    """
CREATE FUNCTION huegis_planning_worst(VARIADIC verdicts text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT v FROM unnest(verdicts) AS v WHERE v IS NOT NULL
     ORDER BY array_position(ARRAY['allowed', 'unknown', 'conditional', 'no_permit', 'conflict'], v) DESC
     LIMIT 1
$$
""",
    # The planning zone and the land parcel at a point (the lowest code where several overlap).
    """
CREATE FUNCTION huegis_planning_site(g geometry)
RETURNS TABLE (plan_code text, zone_name text, zone_type text, parcel_no text, land_use text, land_verdict text)
LANGUAGE sql STABLE AS $$
    SELECT z.plan_code, z.name, z.zone_type, l.parcel_no, l.land_use,
           CASE WHEN l.parcel_no IS NOT NULL THEN huegis_planning_verdict(z.zone_type, 'land_use', l.land_use) END
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (SELECT plan_code, name, zone_type FROM planning_zones
                          WHERE ST_Intersects(geom, g) ORDER BY plan_code LIMIT 1) AS z ON true
      LEFT JOIN LATERAL (SELECT parcel_no, land_use FROM land_parcels
                          WHERE ST_Intersects(geom, g) ORDER BY parcel_no LIMIT 1) AS l ON true
$$
""",
    # A permit's check: its building use and its parcel's land use against the zone.
    """
CREATE FUNCTION huegis_planning_permit(g geometry, building_use text)
RETURNS TABLE (plan_code text, zone_name text, zone_type text, parcel_no text, land_use text,
               use_verdict text, land_verdict text, verdict text, reason text)
LANGUAGE sql STABLE AS $$
    SELECT s.plan_code, s.zone_name, s.zone_type, s.parcel_no, s.land_use, u.verdict, s.land_verdict,
           huegis_planning_worst(u.verdict, s.land_verdict),
           concat_ws('; ',
               CASE WHEN s.zone_type IS NULL THEN 'outside every planning zone'
                    ELSE format('%s in a %s zone: %s', building_use, s.zone_type, u.verdict) END,
               u.note,
               CASE WHEN s.parcel_no IS NOT NULL
                    THEN format('parcel %s (%s) in a %s zone: %s', s.parcel_no, s.land_use, s.zone_type,
                                s.land_verdict) END,
               l.note)
      FROM huegis_planning_site(g) AS s
     CROSS JOIN LATERAL (SELECT huegis_planning_verdict(s.zone_type, 'building_use', building_use) AS verdict,
                                (SELECT note FROM planning_rules r WHERE r.zone_type = s.zone_type
                                    AND r.subject = 'building_use' AND r.use = building_use) AS note) AS u
     CROSS JOIN LATERAL (SELECT (SELECT note FROM planning_rules r WHERE r.zone_type = s.zone_type
                                    AND r.subject = 'land_use' AND r.use = s.land_use) AS note) AS l
$$
""",
    # A construction report's check: its site, and the nearest live permit within radius_m and its use.
    f"""
CREATE FUNCTION huegis_planning_report(g geometry, radius_m float8 DEFAULT {RADIUS_M})
RETURNS TABLE (plan_code text, zone_name text, zone_type text, parcel_no text, land_use text, land_verdict text,
               permit_no text, permit_status text, building_use text, permit_distance_m float8,
               use_verdict text, verdict text, reason text)
LANGUAGE sql STABLE AS $$
    SELECT s.plan_code, s.zone_name, s.zone_type, s.parcel_no, s.land_use, s.land_verdict,
           p.permit_no, p.status, p.building_use, round(p.distance_m::numeric, 1)::float8, p.use_verdict,
           huegis_planning_worst(s.land_verdict, coalesce(p.use_verdict, 'no_permit')),
           concat_ws('; ',
               CASE WHEN p.permit_no IS NULL THEN format('no live construction permit within %s m', radius_m)
                    ELSE format('permit %s (%s, %s m away) in a %s zone: %s', p.permit_no, p.building_use,
                                round(p.distance_m::numeric), coalesce(s.zone_type, 'unzoned'), p.use_verdict) END,
               CASE WHEN s.parcel_no IS NOT NULL
                    THEN format('parcel %s (%s) in a %s zone: %s', s.parcel_no, s.land_use, s.zone_type,
                                s.land_verdict) END)
      FROM huegis_planning_site(g) AS s
      LEFT JOIN LATERAL (
          SELECT c.permit_no, c.status, c.building_use, ST_Distance(c.geom::geography, g::geography) AS distance_m,
                 huegis_planning_verdict(s.zone_type, 'building_use', c.building_use) AS use_verdict
            FROM construction_permits c
           -- the box (in degrees: 100 km or more per degree here) lets the spatial index pick candidates
           WHERE c.{LIVE_PERMIT} AND c.geom && ST_Expand(g, radius_m / 100000.0)
             AND ST_DWithin(c.geom::geography, g::geography, radius_m)
           ORDER BY distance_m, c.permit_no
           LIMIT 1) AS p ON true
$$
""",
    # Rewrite the layer's rows of some reports (all when None): those still open and not 'allowed'.
    f"""
CREATE FUNCTION huegis_refresh_planning_reports(report_ids bigint[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- Writers of the layer take turns: each rewrite then starts from the last committed one.
    PERFORM pg_advisory_xact_lock(hashtext('planning_conflicts'));
    DELETE FROM planning_conflicts
     WHERE subject_type = 'report' AND (report_ids IS NULL OR subject_id = ANY (report_ids));
    INSERT INTO planning_conflicts (subject_type, subject_id, subject_code, building_use, plan_code, zone_type,
                                    parcel_no, land_use, use_verdict, land_verdict, verdict, reason, permit_no,
                                    permit_distance_m, ward_code, source, synthetic, geom)
    SELECT 'report', r.id, r.code, c.building_use, c.plan_code, c.zone_type, c.parcel_no, c.land_use,
           coalesce(c.use_verdict, 'no_permit'), c.land_verdict, c.verdict, c.reason, c.permit_no,
           c.permit_distance_m, r.admin_unit_code, 'HueGIS planning-conflict check of citizen_reports',
           r.synthetic, r.geom
      FROM citizen_reports r
     CROSS JOIN LATERAL huegis_planning_report(r.geom, {RADIUS_M}) AS c
     WHERE (report_ids IS NULL OR r.id = ANY (report_ids))
       AND r.category = '{REPORT_CATEGORY}' AND r.{OPEN_REPORT} AND c.verdict <> 'allowed';
END
$$
""",
    # Rewrite the layer's rows of some permits (all when None) and of the reports whose check they
    # may change: those within the radius of ``near`` (the permits' old and new points; all when None).
    f"""
CREATE FUNCTION huegis_refresh_planning_conflicts(permit_ids bigint[] DEFAULT NULL, near geometry DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(permit_ids) = 0 THEN
        RETURN;  -- a statement that touched no permit changes nothing here
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('planning_conflicts'));
    DELETE FROM planning_conflicts
     WHERE subject_type = 'permit' AND (permit_ids IS NULL OR subject_id = ANY (permit_ids));
    INSERT INTO planning_conflicts (subject_type, subject_id, subject_code, building_use, plan_code, zone_type,
                                    parcel_no, land_use, use_verdict, land_verdict, verdict, reason, ward_code,
                                    source, synthetic, geom)
    SELECT 'permit', p.id, p.permit_no, p.building_use, c.plan_code, c.zone_type, c.parcel_no, c.land_use,
           c.use_verdict, c.land_verdict, c.verdict, c.reason, p.ward_code,
           'HueGIS planning-conflict check of construction_permits', p.synthetic, p.geom
      FROM construction_permits p
     CROSS JOIN LATERAL huegis_planning_permit(p.geom, p.building_use) AS c
     WHERE (permit_ids IS NULL OR p.id = ANY (permit_ids)) AND p.{LIVE_PERMIT} AND c.verdict <> 'allowed';
    PERFORM huegis_refresh_planning_reports(CASE WHEN permit_ids IS NULL OR near IS NULL THEN NULL ELSE ARRAY(
        SELECT r.id FROM citizen_reports r
         WHERE r.category = '{REPORT_CATEGORY}' AND r.geom && ST_Expand(near, {RADIUS_M} / 100000.0)
           AND ST_DWithin(r.geom::geography, near::geography, {RADIUS_M})) END);
END
$$
""",
    """
CREATE FUNCTION huegis_planning_sources_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM huegis_refresh_planning_conflicts();
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION huegis_planning_permits_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM huegis_refresh_planning_conflicts(ARRAY(SELECT id FROM new_permits),
                                                  (SELECT ST_Collect(geom) FROM new_permits));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM huegis_refresh_planning_conflicts(
            ARRAY(SELECT id FROM new_permits UNION SELECT id FROM old_permits),
            (SELECT ST_Collect(geom) FROM (SELECT geom FROM new_permits UNION ALL SELECT geom FROM old_permits) AS g));
    ELSE
        PERFORM huegis_refresh_planning_conflicts(ARRAY(SELECT id FROM old_permits),
                                                  (SELECT ST_Collect(geom) FROM old_permits));
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION huegis_planning_report_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM huegis_refresh_planning_reports(ARRAY[OLD.id]);
    ELSE
        PERFORM huegis_refresh_planning_reports(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END
$$
""",
]
# A change to these rewrites the whole layer (~1 s); a change to some permits, only their rows (and the reports').
SOURCE_TABLES = ("planning_zones", "land_parcels", "planning_rules")
CATEGORY = f"'{REPORT_CATEGORY}'"
PERMIT_TRIGGERS = {
    "planning_permits_insert": "INSERT ON construction_permits REFERENCING NEW TABLE AS new_permits",
    "planning_permits_update": "UPDATE ON construction_permits REFERENCING OLD TABLE AS old_permits "
    "NEW TABLE AS new_permits",
    "planning_permits_delete": "DELETE ON construction_permits REFERENCING OLD TABLE AS old_permits",
}
REPORT_TRIGGERS = ("planning_report_insert", "planning_report_update", "planning_report_delete")
TRIGGERS = [
    *(
        f"CREATE TRIGGER planning_conflicts_refresh AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION huegis_planning_sources_changed()"
        for table in SOURCE_TABLES
    ),
    *(
        f"CREATE TRIGGER {name} AFTER {event} FOR EACH STATEMENT EXECUTE FUNCTION huegis_planning_permits_changed()"
        for name, event in PERMIT_TRIGGERS.items()
    ),
    "CREATE TRIGGER planning_conflicts_refresh AFTER TRUNCATE ON construction_permits "
    "FOR EACH STATEMENT EXECUTE FUNCTION huegis_planning_sources_changed()",
    "CREATE TRIGGER planning_report_insert AFTER INSERT ON citizen_reports FOR EACH ROW "
    f"WHEN (NEW.category = {CATEGORY}) EXECUTE FUNCTION huegis_planning_report_changed()",
    "CREATE TRIGGER planning_report_update AFTER UPDATE OF category, status, geom ON citizen_reports FOR EACH ROW "
    f"WHEN (NEW.category = {CATEGORY} OR OLD.category = {CATEGORY}) EXECUTE FUNCTION huegis_planning_report_changed()",
    "CREATE TRIGGER planning_report_delete AFTER DELETE ON citizen_reports FOR EACH ROW "
    f"WHEN (OLD.category = {CATEGORY}) EXECUTE FUNCTION huegis_planning_report_changed()",
]
DROPPED_FUNCTIONS = (
    "huegis_planning_report_changed()",
    "huegis_planning_permits_changed()",
    "huegis_planning_sources_changed()",
    "huegis_refresh_planning_conflicts(bigint[], geometry)",
    "huegis_refresh_planning_reports(bigint[])",
    "huegis_planning_report(geometry, float8)",
    "huegis_planning_permit(geometry, text)",
    "huegis_planning_site(geometry)",
    "huegis_planning_worst(text[])",
    "huegis_planning_verdict(text, text, text)",
)


def upgrade() -> None:
    op.create_table(
        "feature_history",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("layer_id", sa.String(length=64), nullable=False),
        sa.Column("feature_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(EDIT_ACTIONS, name=op.f("ck_feature_history_action_vocabulary")),
        sa.CheckConstraint("version > 0", name=op.f("ck_feature_history_version_positive")),
        sa.CheckConstraint("before IS NOT NULL OR after IS NOT NULL", name=op.f("ck_feature_history_state_recorded")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_history")),
        sa.UniqueConstraint("layer_id", "feature_id", "version", name=op.f("uq_feature_history_layer_id")),
    )
    op.create_index(op.f("ix_feature_history_at"), "feature_history", ["at"])
    op.create_table(
        "planning_rules",
        sa.Column("zone_type", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("use", sa.String(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("subject IN ('building_use', 'land_use')", name=op.f("ck_planning_rules_subject_vocabulary")),
        sa.CheckConstraint(
            "verdict IN ('allowed', 'conditional', 'conflict')", name=op.f("ck_planning_rules_verdict_vocabulary")
        ),
        sa.PrimaryKeyConstraint("zone_type", "subject", "use", name=op.f("pk_planning_rules")),
    )
    op.create_geospatial_table(
        "planning_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("subject_type", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_code", sa.String(length=32), nullable=False),
        sa.Column("building_use", sa.String(length=32), nullable=True),
        sa.Column("plan_code", sa.String(length=32), nullable=True),
        sa.Column("zone_type", sa.String(length=32), nullable=True),
        sa.Column("parcel_no", sa.String(length=32), nullable=True),
        sa.Column("land_use", sa.String(length=3), nullable=True),
        sa.Column("use_verdict", sa.String(length=12), nullable=False),
        sa.Column("land_verdict", sa.String(length=12), nullable=True),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.Column("permit_no", sa.String(length=32), nullable=True),
        sa.Column("permit_distance_m", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ward_code", sa.String(length=5), nullable=True),
        sa.Column("geom", Geometry(geometry_type="POINT", srid=4326, dimension=2, spatial_index=False,
                                   from_text="ST_GeomFromEWKT", name="geometry", nullable=False), nullable=False),
        sa.CheckConstraint("subject_type IN ('permit', 'report')",
                           name=op.f("ck_planning_conflicts_subject_type_vocabulary")),
        sa.CheckConstraint(CHECK_VERDICTS, name=op.f("ck_planning_conflicts_verdict_vocabulary")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_planning_conflicts_geom_valid")),
        sa.ForeignKeyConstraint(["ward_code"], ["admin_units.code"], name=op.f("fk_planning_conflicts_ward_code")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_conflicts")),
        sa.UniqueConstraint("subject_type", "subject_id", name=op.f("uq_planning_conflicts_subject_type")),
    )  # fmt: skip
    op.create_geospatial_index(
        "idx_planning_conflicts_geom", "planning_conflicts", ["geom"], unique=False,
        postgresql_using="gist", postgresql_ops={},
    )  # fmt: skip
    op.create_index(op.f("ix_planning_conflicts_ward_code"), "planning_conflicts", ["ward_code"])
    op.execute(sa.text("SELECT huegis_track_layer(CAST('planning_conflicts' AS regclass))"))
    for statement in (*FUNCTIONS, *TRIGGERS):
        op.execute(statement)
    op.execute("SELECT huegis_refresh_planning_conflicts()")  # reports and permits already loaded


def downgrade() -> None:
    for table in (*SOURCE_TABLES[:-1], "construction_permits"):
        op.execute(f"DROP TRIGGER planning_conflicts_refresh ON {table}")
    for name in PERMIT_TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON construction_permits")
    for name in REPORT_TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON citizen_reports")
    op.drop_table("planning_conflicts")
    op.drop_table("planning_rules")  # its trigger goes with it
    for function in DROPPED_FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DELETE FROM layer_versions WHERE layer_id = 'planning_conflicts'")
    op.drop_index(op.f("ix_feature_history_at"), table_name="feature_history")
    op.drop_table("feature_history")
