"""Loading is idempotent: a second load writes nothing, a forced reload leaves identical data."""

from __future__ import annotations

import psycopg
from psycopg import sql

from geo.registry import REGISTRY
from geo.settings import Settings
from layers.loaders import SOURCES, load_layers


def snapshot(conn: psycopg.Connection) -> dict[str, tuple]:
    """Row count and an order-independent checksum of every loaded layer."""
    out = {}
    for layer_id in SOURCES:
        table = sql.Identifier(layer_id)
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in REGISTRY[layer_id].fields if c not in ("updated_at",))
        row = conn.execute(
            sql.SQL(
                "SELECT count(*), md5(string_agg(md5(ROW({c}, ST_AsEWKB(geom))::text), '' ORDER BY "
                "md5(ROW({c}, ST_AsEWKB(geom))::text))) FROM {t}"
            ).format(c=columns, t=table)
        ).fetchone()
        assert row is not None
        out[layer_id] = tuple(row)
    return out


def test_every_layer_with_a_source_is_loaded(db: psycopg.Connection) -> None:
    counts = {k: v[0] for k, v in snapshot(db).items()}
    assert all(n > 0 for n in counts.values()), counts
    assert counts["admin_units"] == 41
    assert counts["storm_tracks"] == 222


def test_second_load_changes_nothing(loaded: Settings, db: psycopg.Connection) -> None:
    before = snapshot(db)
    results = load_layers(loaded)
    assert not any(r.loaded for r in results), "unchanged inputs must be skipped"
    assert snapshot(db) == before


def test_forced_reload_gives_identical_data(loaded: Settings, db: psycopg.Connection) -> None:
    before = snapshot(db)
    results = load_layers(loaded, force=True)
    assert all(r.loaded for r in results)
    assert snapshot(db) == before


def test_synthetic_layers_are_flagged(db: psycopg.Connection) -> None:
    for layer_id, source in SOURCES.items():
        if source.synthetic and layer_id != "schools":
            row = db.execute(sql.SQL("SELECT bool_and(synthetic) FROM {}").format(sql.Identifier(layer_id))).fetchone()
            assert row == (True,), layer_id
    row = db.execute(
        "SELECT bool_and(synthetic) FILTER (WHERE source NOT LIKE 'GeoNames%'), "
        "bool_or(synthetic) FILTER (WHERE source LIKE 'GeoNames%'), count(*) FILTER (WHERE source LIKE 'GeoNames%') "
        "FROM schools"
    ).fetchone()
    assert row == (True, False, 1)  # generated schools are flagged; Hue University (GeoNames) is real
