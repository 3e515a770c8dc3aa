"""Disaster zones: staff create/update/cancel with validation, exposure, report priority trigger, OGC datetime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from disaster_fixtures import SQUARE, ZoneMaker, now, zone_body, zone_counts

BOWTIE = [[107.57, 16.46], [107.59, 16.48], [107.59, 16.46], [107.57, 16.48], [107.57, 16.46]]
HANOI = [[105.80, 21.00], [105.85, 21.00], [105.85, 21.05], [105.80, 21.05], [105.80, 21.00]]


# --- validation: 4xx naming the problem, nothing written ---------------------------------

BAD_INPUTS = [
    ("self-intersecting", {"geometry": {"type": "Polygon", "coordinates": [BOWTIE]}}, "self-intersection"),
    ("far-outside-city", {"geometry": {"type": "Polygon", "coordinates": [HANOI]}}, "outside thành phố huế"),
    ("expires-before-onset", {"onset": "2026-10-28T14:00:00+07:00", "expires": "2026-10-27T14:00:00+07:00"}, "expires"),
    ("expires-equals-onset", {"onset": "2026-10-28T14:00:00+07:00", "expires": "2026-10-28T14:00:00+07:00"}, "expires"),
    ("unknown-severity", {"severity": "Catastrophic"}, "severity"),
    ("unknown-category", {"category": "Weather"}, "category"),
    ("unknown-status", {"status": "Real"}, "status"),
    ("unknown-hazard", {"hazard": "meteor"}, "hazard"),
    ("point-geometry", {"geometry": {"type": "Point", "coordinates": [107.58, 16.47]}}, "polygon"),
    ("unclosed-ring", {"geometry": {"type": "Polygon", "coordinates": [[*SQUARE[:-1], [107.65, 16.351]]]}}, "ring"),
    ("empty-headline", {"headline_en": "  "}, "headline_en"),
]


@pytest.mark.parametrize(("changes", "named"), [(c, n) for _, c, n in BAD_INPUTS], ids=[i for i, _, _ in BAD_INPUTS])
def test_bad_zone_is_rejected_naming_the_problem_and_nothing_is_written(
    client: httpx.Client, staff: dict[str, str], db: psycopg.Connection, changes: dict, named: str
) -> None:
    before = zone_counts(db)
    response = client.post("/api/disasters", json=zone_body(**changes), headers=staff)
    assert response.status_code == 400, response.text
    assert named in response.json()["detail"].lower()
    assert zone_counts(db) == before


def test_unparseable_time_and_unknown_field_are_422(client: httpx.Client, staff: dict[str, str], db) -> None:
    before = zone_counts(db)
    assert client.post("/api/disasters", json=zone_body(onset="tomorrow"), headers=staff).status_code == 422
    assert client.post("/api/disasters", json=zone_body(colour="red"), headers=staff).status_code == 422
    assert zone_counts(db) == before


def test_an_emergency_officer_is_required(client: httpx.Client, db: psycopg.Connection,
                                          staff_headers: Callable[..., dict[str, str]]) -> None:  # fmt: skip
    before = zone_counts(db)
    assert client.post("/api/disasters", json=zone_body()).status_code == 401
    bad = {"Authorization": "Bearer wrong"}
    assert client.post("/api/disasters", json=zone_body(), headers=bad).status_code == 401
    assert client.post("/api/disasters/1/cancel", headers=bad).status_code == 401
    refused = client.post("/api/disasters", json=zone_body(), headers=staff_headers("city_leader"))
    assert refused.status_code == 403 and "disasters.write" in refused.json()["detail"]
    assert zone_counts(db) == before


def test_create_update_cancel_keep_a_cap_history(client: httpx.Client, zones: ZoneMaker, db) -> None:
    zone = zones.create()
    assert zone["active"] is True
    assert [m["msg_type"] for m in zone["messages"]] == ["Alert"]
    assert zone["messages"][0]["actor"] == "emergency_officer"  # a role: usernames are not published
    stored = db.execute("SELECT ST_GeometryType(geom), status FROM disaster_zones WHERE id = %s", (zone["id"],))
    assert stored.fetchone() == ("ST_MultiPolygon", "Actual")

    updated = client.patch(
        f"/api/disasters/{zone['id']}", json={"severity": "Extreme", "note": "Nước lên nhanh"}, headers=zones.headers
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["severity"] == "Extreme"
    assert [m["msg_type"] for m in updated.json()["messages"]] == ["Alert", "Update"]

    cancelled = client.post(f"/api/disasters/{zone['id']}/cancel", json={"note": "Nước rút"}, headers=zones.headers)
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert body["cancelled_at"] is not None and body["active"] is False
    assert [m["msg_type"] for m in body["messages"]] == ["Alert", "Update", "Cancel"]

    again = client.post(f"/api/disasters/{zone['id']}/cancel", headers=zones.headers)
    assert again.status_code == 409
    late = client.patch(f"/api/disasters/{zone['id']}", json={"severity": "Minor"}, headers=zones.headers)
    assert late.status_code == 409


def test_bad_update_writes_nothing(client: httpx.Client, zones: ZoneMaker, db: psycopg.Connection) -> None:
    zone = zones.create()
    before = zone_counts(db)
    for changes, named in [
        ({"urgency": "Soon"}, "urgency"),
        ({"expires": "2000-01-01T00:00:00+07:00"}, "expires"),
        ({"geometry": {"type": "Polygon", "coordinates": [BOWTIE]}}, "self-intersection"),
    ]:
        response = client.patch(f"/api/disasters/{zone['id']}", json=changes, headers=zones.headers)
        assert response.status_code == 400, response.text
        assert named in response.json()["detail"].lower()
    assert zone_counts(db) == before
    assert client.get(f"/api/disasters/{zone['id']}").json()["urgency"] == "Immediate"


def test_unknown_zone_is_404(client: httpx.Client, staff: dict[str, str]) -> None:
    assert client.get("/api/disasters/987654321").status_code == 404
    assert client.get("/api/disasters/987654321/exposure").status_code == 404
    assert client.post("/api/disasters/987654321/cancel", headers=staff).status_code == 404


# --- exposure on a hand-made fixture ------------------------------------------------------

# The zone is SQUARE; per layer: one point inside, one on an edge, one on a corner (all count:
# boundaries are inside), and two just outside. Hand count: 3 of each.
FIXTURE_POINTS = {
    "inside": (107.651, 16.351),
    "edge": (107.651, 16.350),
    "corner": (107.652, 16.352),
    "east": (107.653, 16.351),
    "north": (107.651, 16.3525),
}
INSIDE = ("inside", "edge", "corner")


@pytest.fixture
def exposure_fixture(db: psycopg.Connection) -> Iterator[dict[str, Any]]:
    """Fixture facilities, schools, sites and reports around SQUARE (removed afterwards)."""
    square = "ST_MakeEnvelope(107.650, 16.350, 107.652, 16.352, 4326)"
    for table in ("health_facilities", "schools", "tourism_sites", "citizen_reports"):
        row = db.execute(f"SELECT count(*) FROM {table} WHERE ST_DWithin(geom, {square}, 0.003)").fetchone()
        assert row == (0,), f"{table} already has rows near the fixture square: move SQUARE"
    category = db.execute("SELECT code FROM report_categories WHERE level = 'ward' ORDER BY code LIMIT 1").fetchone()
    assert category is not None
    ids: dict[str, list[int]] = {"health_facilities": [], "schools": [], "tourism_sites": [], "citizen_reports": []}
    point = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
    for label, (lon, lat) in FIXTURE_POINTS.items():
        name = f"Exposure fixture {label}"
        rows = {
            "health_facilities": db.execute(
                "INSERT INTO health_facilities (name, facility_type, ownership, source, synthetic, geom) "
                f"VALUES (%s, 'clinic', 'private', 'test', true, {point}) RETURNING id",
                (name, lon, lat),
            ),
            "schools": db.execute(
                "INSERT INTO schools (name, school_level, ownership, source, synthetic, geom) "
                f"VALUES (%s, 'primary', 'public', 'test', true, {point}) RETURNING id",
                (name, lon, lat),
            ),
            "tourism_sites": db.execute(
                "INSERT INTO tourism_sites (name, kind, theme, source, synthetic, geom) "
                f"VALUES (%s, 'pagoda', 'religion', 'test', true, {point}) RETURNING id",
                (name, lon, lat),
            ),
        }
        for table, cur in rows.items():
            ids[table].append(cur.fetchone()[0])  # type: ignore[index]
        for status in ("received", "resolved"):
            cur = db.execute(
                "INSERT INTO citizen_reports (code, category, description, channel, status, synthetic, geom) "
                f"VALUES (%s, %s, 'exposure fixture report', 'web', %s, true, {point}) RETURNING id",
                (f"TEST-EX-{label[:4].upper()}-{status[:3].upper()}", category[0], status, lon, lat),
            )
            ids["citizen_reports"].append(cur.fetchone()[0])  # type: ignore[index]
    yield ids
    for table, table_ids in ids.items():
        db.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", (table_ids,))


def test_exposure_counts_match_the_hand_count(
    client: httpx.Client, zones: ZoneMaker, db: psycopg.Connection, exposure_fixture: dict[str, Any]
) -> None:
    zone = zones.create(ring=SQUARE, status="Test")
    response = client.get(f"/api/disasters/{zone['id']}/exposure")
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {
        "health_facilities": 3,
        "schools": 3,
        "tourism_sites": 3,
        "wards": 1,
        "open_reports": 3,  # the resolved report at each point is not open
    }
    for key in ("health_facilities", "schools", "tourism_sites"):
        assert sorted(row["name"] for row in body[key]) == sorted(f"Exposure fixture {label}" for label in INSIDE)
    assert {r["status"] for r in body["open_reports"]} == {"received"}
    ward = db.execute("SELECT code, population FROM admin_units WHERE code = '19960'").fetchone()
    assert [(w["code"], w["population"]) for w in body["wards"]] == [ward]
    assert body["population_of_wards"] == ward[1]  # type: ignore[index]
    assert 0 < body["wards"][0]["share_of_area"] < 0.01


# --- citizen reports inside an active zone get a raised priority (trigger) -----------------


def _insert_report(db: psycopg.Connection, code: str, lon: float, lat: float, priority: str = "normal") -> str:
    category = db.execute("SELECT code FROM report_categories WHERE level = 'ward' ORDER BY code LIMIT 1").fetchone()
    assert category is not None
    row = db.execute(
        "INSERT INTO citizen_reports (code, category, description, channel, status, priority, synthetic, geom) "
        "VALUES (%s, %s, 'priority trigger test', 'web', 'received', %s, true, "
        "ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING priority",
        (code, category[0], priority, lon, lat),
    ).fetchone()
    assert row is not None
    return row[0]


def test_reports_inside_active_actual_zones_get_raised_priority(
    client: httpx.Client, zones: ZoneMaker, db: psycopg.Connection
) -> None:
    west = [[107.700, 16.300], [107.702, 16.300], [107.702, 16.302], [107.700, 16.302], [107.700, 16.300]]
    east = [[107.710, 16.300], [107.712, 16.300], [107.712, 16.302], [107.710, 16.302], [107.710, 16.300]]
    zones.create(ring=west, severity="Severe")
    zones.create(ring=east, severity="Moderate")
    gone = zones.create(ring=[[x + 0.02, y] for x, y in west], severity="Extreme")
    client.post(f"/api/disasters/{gone['id']}/cancel", headers=zones.headers)
    start = now()
    zones.create(ring=[[x + 0.04, y] for x, y in west], onset=(start - timedelta(hours=5)).isoformat(),
                 expires=(start - timedelta(hours=1)).isoformat())  # fmt: skip
    zones.create(ring=[[x + 0.06, y] for x, y in west], status="Exercise")
    codes = []
    try:
        cases = [
            ("TEST-PR-SEV", 107.701, 16.301, "normal", "urgent"),
            ("TEST-PR-EDGE", 107.702, 16.301, "normal", "urgent"),  # on the zone's edge
            ("TEST-PR-MOD", 107.711, 16.301, "low", "high"),
            ("TEST-PR-KEEP", 107.711, 16.301, "urgent", "urgent"),  # never lowered
            ("TEST-PR-OUT", 107.705, 16.301, "normal", "normal"),
            ("TEST-PR-CANC", 107.721, 16.301, "normal", "normal"),  # cancelled zone
            ("TEST-PR-EXPD", 107.741, 16.301, "normal", "normal"),  # expired zone
            ("TEST-PR-EXER", 107.761, 16.301, "normal", "normal"),  # exercise zone
        ]
        for code, lon, lat, given, expected in cases:
            codes.append(code)
            assert _insert_report(db, code, lon, lat, given) == expected, code
        # Through the report intake API too: the trigger does not depend on who inserts.
        category = db.execute("SELECT code FROM report_categories WHERE level = 'ward' ORDER BY code LIMIT 1")
        filed = client.post(
            "/api/reports",
            json={"category": category.fetchone()[0], "description": "Nước ngập sâu trước nhà", "lon": 107.7012,  # type: ignore[index]
                  "lat": 16.3013, "channel": "app"},
        )  # fmt: skip
        assert filed.status_code == 201, filed.text
        code = filed.json()["code"]
        codes.append(code)
        assert db.execute("SELECT priority FROM citizen_reports WHERE code = %s", (code,)).fetchone() == ("urgent",)
    finally:
        db.execute("DELETE FROM citizen_reports WHERE code = ANY(%s)", (codes,))


# --- OGC API datetime: only the zones active at that instant -------------------------------


def _ogc_ids(client: httpx.Client, **params: str) -> set[int]:
    body = client.get("/ogc/collections/disaster_zones/items", params={"f": "json", "limit": 10000, **params}).json()
    assert body["numberMatched"] == len(body["features"])
    return {f["id"] for f in body["features"]}


def _sql_active(db: psycopg.Connection, at: str) -> set[int]:
    rows = db.execute(
        "SELECT id FROM disaster_zones WHERE onset <= %(t)s AND %(t)s < expires "
        "AND (cancelled_at IS NULL OR %(t)s < cancelled_at)",
        {"t": at},
    ).fetchall()
    return {r[0] for r in rows}


def test_ogc_datetime_returns_only_zones_active_at_that_instant(
    client: httpx.Client, zones: ZoneMaker, db: psycopg.Connection
) -> None:
    a = zones.create(onset="2031-01-01T00:00:00+07:00", expires="2031-01-01T12:00:00+07:00")
    b = zones.create(onset="2031-01-01T06:00:00+07:00", expires="2031-01-02T00:00:00+07:00", status="Exercise")
    start = now()
    c = zones.create(onset=(start - timedelta(hours=2)).isoformat(), expires=(start + timedelta(days=30)).isoformat())
    client.post(f"/api/disasters/{c['id']}/cancel", headers=zones.headers)
    mine = {a["id"], b["id"], c["id"]}
    expectations = {
        "2030-12-31T23:59:59+07:00": set(),
        "2031-01-01T00:00:00+07:00": {a["id"]},  # onset is inclusive
        "2031-01-01T08:00:00+07:00": {a["id"], b["id"]},
        "2031-01-01T12:00:00+07:00": {b["id"]},  # expires is exclusive
        "2030-12-31T20:00:00Z": {a["id"]},  # 03:00 in Huế
        (start - timedelta(hours=1)).isoformat(): {c["id"]},  # before it was cancelled
        (start + timedelta(days=1)).isoformat(): set(),  # cancelled since
    }
    for instant, expected in expectations.items():
        ids = _ogc_ids(client, datetime=instant)
        assert ids & mine == expected, instant
        assert ids == _sql_active(db, instant), instant
    # An interval returns the zones active at some moment of it.
    assert _ogc_ids(client, datetime="2031-01-01T12:30:00+07:00/2031-01-01T13:00:00+07:00") & mine == {b["id"]}
    assert _ogc_ids(client, datetime="../2031-01-01T01:00:00+07:00") & mine >= {a["id"]}
    assert (
        client.get("/ogc/collections/disaster_zones/items", params={"f": "json", "datetime": "not-a-time"}).status_code
        == 400
    )


# --- scenarios from real data ----------------------------------------------------------------


def test_flood_exercise_zone_is_exercise_and_synthetic(client: httpx.Client, zones: ZoneMaker, db) -> None:
    response = client.post(
        "/api/disasters/exercises/flood",
        json={"return_period_years": 100, "onset": "2031-11-01T06:00:00+07:00", "hours": 48},
        headers=zones.headers,
    )
    assert response.status_code == 201, response.text
    zone = response.json()
    zones.ids.append(zone["id"])
    assert (zone["status"], zone["synthetic"], zone["hazard"]) == ("Exercise", True, "flood")
    assert zone["expires"].startswith("2031-11-03T06:00:00")
    difference = db.execute(
        "SELECT ST_Area(ST_SymDifference(z.geom, f.geom)) / ST_Area(f.geom) FROM disaster_zones z, flood_scenarios f "
        "WHERE z.id = %s AND f.return_period_years = 100",
        (zone["id"],),
    ).fetchone()
    assert difference is not None and difference[0] < 1e-6, "the exercise zone is the scenario's extent"
    missing = client.post(
        "/api/disasters/exercises/flood",
        json={"return_period_years": 7, "onset": "2031-11-01T06:00:00+07:00"},
        headers=zones.headers,
    )
    assert missing.status_code == 404


def test_flood_scenarios_grow_with_the_return_period(db: psycopg.Connection) -> None:
    rows = db.execute(
        "SELECT return_period_years, area_km2, max_depth_m, synthetic, ST_Area(geom::geography) / 1e6 "
        "FROM flood_scenarios ORDER BY return_period_years"
    ).fetchall()
    assert [r[0] for r in rows] == [5, 20, 100]
    assert all(r[3] for r in rows), "flood scenarios are synthetic"
    areas = [r[1] for r in rows]
    assert areas == sorted(areas) and areas[0] > 10
    for _, area, _, _, polygon_area in rows:
        assert polygon_area == pytest.approx(area, rel=0.1)  # polygons are the raster's cells, simplified
    nested = db.execute(
        "SELECT ST_Area(ST_Difference(a.geom, b.geom)::geography) / ST_Area(a.geom::geography) "
        "FROM flood_scenarios a, flood_scenarios b WHERE a.return_period_years = 5 AND b.return_period_years = 100"
    ).fetchone()
    assert nested is not None and nested[0] < 0.02, "the 5-year flood lies inside the 100-year flood"


def test_storm_exposure_matches_postgis_distances(db: psycopg.Connection) -> None:
    """Whole-record counts agree with PostGIS geodesic distances to the storm_tracks lines.

    Ours are measured in UTM 48N between 6-hourly fixes; a storm passing within 0.5 % of the
    radius may fall either way, so the check brackets the count between two geodesic radii.
    """
    # One geodesic distance per (ward, storm), to the ward outline the layer publishes (simplified by 20 m).
    distances = db.execute(
        """
        SELECT e.ward_code, e.storms_50km, e.storms_100km, e.storms_300km,
               array_agg(ST_Distance(t.geom::geography, e.geom::geography) / 1000.0) AS km
          FROM storm_exposure e CROSS JOIN storm_tracks t
         WHERE e.decade IS NULL
         GROUP BY e.ward_code, e.storms_50km, e.storms_100km, e.storms_300km
        """
    ).fetchall()
    assert len(distances) == 40
    for ward, n50, n100, n300, km in distances:
        for radius, ours in ((50, n50), (100, n100), (300, n300)):
            inner = sum(d <= radius * 0.995 for d in km)
            outer = sum(d <= radius * 1.005 for d in km)
            assert inner <= ours <= outer, (radius, ward, inner, ours, outer)
    sums = db.execute(
        "SELECT bool_and(t.storms_300km = d.total) FROM storm_exposure t "
        "JOIN (SELECT ward_code, sum(storms_300km) AS total FROM storm_exposure WHERE decade IS NOT NULL "
        "GROUP BY ward_code) d USING (ward_code) WHERE t.decade IS NULL"
    ).fetchone()
    assert sums == (True,), "decades add up to the whole record"
    nested = db.execute(
        "SELECT bool_and(storms_50km_ty <= storms_50km_ts AND storms_50km_ts <= storms_50km) FROM storm_exposure"
    ).fetchone()
    assert nested == (True,)
