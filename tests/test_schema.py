"""Migrations and constraints: upgrade/downgrade on an empty database, data rules enforced."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from geo import cluster
from geo.models import Base
from geo.schema import alembic_config
from geo.settings import Settings


@pytest.fixture
def empty_db(settings: Settings) -> Iterator[Settings]:
    if settings.external_db:
        pytest.fail("the migration round trip needs the local cluster (unset DATABASE_URL)")
    empty = Settings(db_name=f"{settings.db_name}_migrations")
    cluster.ensure_database(empty)
    yield empty
    cluster.drop_database(settings, empty.db_name)


def tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows} - {"spatial_ref_sys", "alembic_version"}


def test_migrations_upgrade_and_downgrade_cleanly(empty_db: Settings) -> None:
    config = alembic_config(empty_db.sqlalchemy_url())
    with psycopg.connect(empty_db.conninfo(), autocommit=True) as conn:
        command.upgrade(config, "heads")
        assert tables(conn) == set(Base.metadata.tables)
        command.downgrade(config, "base")
        assert tables(conn) == set()
        command.upgrade(config, "heads")
        assert tables(conn) == set(Base.metadata.tables)


def test_every_geometry_has_a_spatial_index_and_srid_4326(db: psycopg.Connection) -> None:
    rows = db.execute("SELECT f_table_name, srid FROM geometry_columns WHERE f_table_schema = 'public'").fetchall()
    assert {r[1] for r in rows} == {4326}
    indexed = {
        r[0]
        for r in db.execute(
            "SELECT tablename FROM pg_indexes WHERE schemaname = 'public' AND indexdef ILIKE '%USING gist (geom)%'"
        ).fetchall()
    }
    assert {r[0] for r in rows} <= indexed


BOWTIE = "SRID=4326;MULTIPOLYGON(((107.5 16.4,107.6 16.5,107.6 16.4,107.5 16.5,107.5 16.4)))"


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (
            "INSERT INTO planning_zones (plan_code, name, zone_type, source, geom) VALUES "
            f"('T-1', 'x', 'residential', 't', '{BOWTIE}')",
            psycopg.errors.CheckViolation,
        ),
        (
            "INSERT INTO planning_zones (plan_code, name, zone_type, source, geom) VALUES "
            "('T-2', 'x', 'casino', 't', 'SRID=4326;MULTIPOLYGON(((107.5 16.4,107.6 16.4,107.6 16.5,107.5 16.4)))')",
            psycopg.errors.CheckViolation,
        ),
        (
            "INSERT INTO schools (name, school_level, ownership, source, geom) VALUES "
            "('x', 'primary', 'public', 't', 'SRID=3857;POINT(1 2)')",
            psycopg.errors.InvalidParameterValue,
        ),
        (
            "INSERT INTO schools (name, school_level, ownership, source, geom) VALUES "
            "('x', 'primary', 'public', 't', NULL)",
            psycopg.errors.NotNullViolation,
        ),
        (
            "INSERT INTO disaster_zones (event, hazard, category, urgency, severity, certainty, status, headline_vi, "
            "headline_en, onset, expires, source, geom) VALUES ('Lũ', 'flood', 'Met', 'Immediate', 'Severe', "
            "'Observed', 'Actual', 'x', 'x', '2026-10-28T14:00+07', '2026-10-27T14:00+07', 't', "
            "'SRID=4326;MULTIPOLYGON(((107.5 16.4,107.6 16.4,107.6 16.5,107.5 16.4)))')",
            psycopg.errors.CheckViolation,
        ),
        (
            "INSERT INTO health_facilities (name, facility_type, ownership, source, ward_code, geom) VALUES "
            "('x', 'clinic', 'private', 't', '99999', 'SRID=4326;POINT(107.5 16.4)')",
            psycopg.errors.ForeignKeyViolation,
        ),
    ],
    ids=[
        "invalid-geometry",
        "unknown-zone-type",
        "wrong-srid",
        "missing-geometry",
        "expires-before-onset",
        "unknown-ward",
    ],
)
def test_constraints_reject_bad_rows(db: psycopg.Connection, statement: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        db.execute(statement)


def test_models_and_migrations_agree(loaded: Settings) -> None:
    """Autogenerate against the migrated database finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from geo.schema import include_object

    engine = create_engine(loaded.sqlalchemy_url())
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_have_one_head() -> None:
    """Branches written in parallel are merged: a new migration has one parent to name."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("postgresql+psycopg:///unused")).get_heads()
    assert len(heads) == 1, heads


def test_every_layer_is_under_the_tile_cache_trigger(db: psycopg.Connection) -> None:
    from geo.registry import REGISTRY

    rows = db.execute(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'layer_version_bump'"
    ).fetchall()
    assert set(REGISTRY) <= {r[0] for r in rows}
