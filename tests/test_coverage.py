"""Nearest facility, service coverage per ward and reports per 1,000 residents, against PostGIS and by hand."""

from __future__ import annotations

import asyncio

import httpx
import psycopg
import pytest

from geo.analytics.coverage import coverage_by_ward
from geo.settings import Settings

CENTRE = {"lon": 107.5775, "lat": 16.4680}  # the Imperial City


def test_nearest_health_station_is_the_closest_by_geodesic_distance(
    client: httpx.Client, db: psycopg.Connection
) -> None:
    body = client.get("/api/nearest", params={**CENTRE, "type": "health_station", "limit": 3}).json()
    assert len(body["features"]) == 3
    expected = db.execute(
        "SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) AS d "
        "FROM health_facilities WHERE facility_type = 'health_station' ORDER BY d LIMIT 3",
        (CENTRE["lon"], CENTRE["lat"]),
    ).fetchall()
    assert [f["id"] for f in body["features"]] == [r[0] for r in expected]
    assert [f["distance_m"] for f in body["features"]] == pytest.approx([r[1] for r in expected])
    assert all(f["type"] == "health_station" for f in body["features"])
    school = client.get("/api/nearest", params={**CENTRE, "layer": "schools", "type": "primary"}).json()
    assert school["features"][0]["type"] == "primary"


def test_nearest_refuses_bad_input(client: httpx.Client) -> None:
    assert client.get("/api/nearest", params={**CENTRE, "type": "spa"}).status_code == 400
    assert client.get("/api/nearest", params={**CENTRE, "layer": "dams"}).status_code == 422
    assert client.get("/api/nearest", params={"lon": 200, "lat": 16}).status_code == 422


def test_coverage_shares_are_consistent(client: httpx.Client, db: psycopg.Connection) -> None:
    near = client.get("/api/coverage", params={"layer": "health_facilities", "radius_m": 1000}).json()
    far = client.get("/api/coverage", params={"layer": "health_facilities", "radius_m": 5000}).json()
    assert len(near["wards"]) == 40 and "GeoNames populated places" in near["method"]
    assert 0 < near["share"] <= far["share"] <= 1
    for a, b in zip(near["wards"], far["wards"], strict=True):
        assert a["code"] == b["code"] and 0 <= a["share"] <= b["share"] <= 1
        assert a["method"] == "populated_places" and a["points"] > 0
    # By hand for one ward: the share of its populated places within 1 km of any facility.
    ward = near["wards"][0]
    row = db.execute(
        "SELECT avg((EXISTS (SELECT 1 FROM health_facilities f WHERE ST_DWithin(f.geom::geography, "
        "p.geom::geography, 1000)))::int) FROM places p JOIN admin_units u ON ST_Intersects(u.geom, p.geom) "
        "WHERE u.code = %s AND p.group_name = 'dan_cu'",
        (ward["code"],),
    ).fetchone()
    assert row is not None and ward["share"] == pytest.approx(float(row[0]))
    schools = client.get("/api/coverage", params={"layer": "schools", "type": "primary", "radius_m": 2000}).json()
    assert 0 < schools["share"] <= 1
    assert client.get("/api/coverage", params={"radius_m": 0}).status_code == 422
    assert client.get("/api/coverage", params={"layer": "schools", "type": "casino"}).status_code == 400


def test_a_ward_without_populated_places_is_covered_uniformly_over_its_land(loaded: Settings) -> None:
    async def check() -> dict:
        conn = await psycopg.AsyncConnection.connect(loaded.conninfo())
        async with conn, conn.transaction(force_rollback=True):
            ward = await (
                await conn.execute("SELECT code FROM admin_units WHERE level <> 'city' ORDER BY area_km2 LIMIT 1")
            ).fetchone()
            assert ward is not None
            await conn.execute(
                "DELETE FROM places p USING admin_units u WHERE u.code = %s "
                "AND ST_Intersects(u.geom, p.geom) AND p.group_name = 'dan_cu'",
                (ward[0],),
            )
            result = await coverage_by_ward(conn, radius_m=800)
            return next(w for w in result["wards"] if w["code"] == ward[0])

    ward = asyncio.run(check())
    assert ward["method"] == "uniform_over_land" and ward["points"] > 3
    assert 0 <= ward["share"] <= 1


def test_reports_per_1000_residents(client: httpx.Client, db: psycopg.Connection) -> None:
    body = client.get("/api/reports-per-1000", params={"start": "2025-01-01", "end": "2026-01-01"}).json()
    assert len(body["wards"]) == 40
    ward = max(body["wards"], key=lambda w: w["reports"])
    row = db.execute(
        "SELECT count(*), (SELECT population FROM admin_units WHERE code = %s) FROM citizen_reports "
        "WHERE admin_unit_code = %s AND received_at >= '2025-01-01T00:00+07' AND received_at < '2026-01-01T00:00+07'",
        (ward["code"], ward["code"]),
    ).fetchone()
    assert row is not None and ward["reports"] == row[0] > 0
    assert ward["per_1000"] == pytest.approx(row[0] * 1000 / row[1])
    assert ward["per_1000_per_year"] == pytest.approx(ward["per_1000"], rel=0.01)
    values = [w["per_1000"] for w in body["wards"] if w["per_1000"] is not None]
    assert values == sorted(values, reverse=True)
    assert client.get("/api/reports-per-1000", params={"start": "2026-01-01", "end": "2025-01-01"}).status_code == 400
