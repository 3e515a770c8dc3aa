"""The 40 wards/communes: valid, covering the city outline, one unit per point."""

from __future__ import annotations

import httpx
import psycopg
import shapely

from layers.sources import CITY_FILE, read_admin_units


def test_forty_valid_units_under_the_city(db: psycopg.Connection) -> None:
    rows = db.execute(
        "SELECT level, count(*), bool_and(ST_IsValid(geom)), bool_and(parent_code = '46') "
        "FROM admin_units WHERE level <> 'city' GROUP BY level ORDER BY level"
    ).fetchall()
    assert rows == [("commune", 19, True, True), ("ward", 21, True, True)]


def test_units_cover_the_city_outline_without_gaps_or_overlaps(db: psycopg.Connection) -> None:
    row = db.execute(
        """
        WITH units AS (SELECT ST_Union(geom) AS g, sum(ST_Area(geom::geography)) AS summed
                       FROM admin_units WHERE level <> 'city'),
             city AS (SELECT geom AS g FROM admin_units WHERE level = 'city')
        SELECT ST_Area(ST_Difference(city.g, units.g)::geography) AS gap_m2,
               ST_Area(ST_Difference(units.g, city.g)::geography) AS outside_m2,
               units.summed - ST_Area(units.g::geography) AS overlap_m2,
               ST_Area(city.g::geography) AS city_m2
        FROM units, city
        """
    ).fetchone()
    assert row is not None
    gap, outside, overlap, city = row
    assert city > 4.9e9  # 4,944 km²
    # Slivers only: under 0.01 km² of gaps or overhang in a city of 4,944 km².
    assert gap < 1e4 and outside < 1e4, (gap, outside)
    assert overlap < 1.0, overlap


def test_points_inside_the_city_fall_in_exactly_one_unit(db: psycopg.Connection) -> None:
    row = db.execute(
        """
        WITH city AS (SELECT geom FROM admin_units WHERE level = 'city'),
             pts AS (SELECT (ST_Dump(ST_GeneratePoints(geom, 2000, 7))).geom AS p FROM city)
        SELECT count(*), count(*) FILTER (WHERE n = 1)
        FROM (SELECT p, (SELECT count(*) FROM admin_units u
                         WHERE u.level <> 'city' AND ST_Covers(u.geom, pts.p)) AS n FROM pts) x
        """
    ).fetchone()
    assert row == (2000, 2000)


def test_unit_lookup_endpoint(client: httpx.Client) -> None:
    inside = client.get("/api/admin-units/at", params={"lon": 107.5795, "lat": 16.4637})
    assert inside.status_code == 200
    assert inside.json()["level"] in ("ward", "commune")
    outside = client.get("/api/admin-units/at", params={"lon": 105.85, "lat": 21.03})  # Hà Nội
    assert outside.status_code == 404
    assert "no ward or commune" in outside.json()["detail"]
    bad = client.get("/api/admin-units/at", params={"lon": "east", "lat": 16.46})
    assert bad.status_code == 422


def test_shipped_outline_matches_the_union_of_units() -> None:
    units = read_admin_units()
    wards = shapely.union_all(units[units["level"] != "city"].geometry.values)
    import geopandas as gpd

    outline = gpd.read_file(CITY_FILE).geometry.iloc[0]
    assert shapely.symmetric_difference(wards, outline).area < 1e-6  # deg², about 0.01 km²
