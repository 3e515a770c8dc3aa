"""The planning-conflict check: the rule table as data, the conflicts layer against an independent check
(geopandas, pyproj), and the layer, its tiles and the staff report view following permits, zones and reports
as they are edited and handled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
import yaml
from pyproj import Geod
from sqlalchemy import create_engine
from typer.testing import CliRunner

from cli.main import app
from geo import models
from geo.planning import PERMIT_RADIUS_M, RULES_FILE, load_rules, read_rules
from geo.settings import Settings, get_settings

TMS = morecantile.tms.get("WebMercatorQuad")
GEOJSON = {"Content-Type": "application/geo+json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
SITE = (107.5912, 16.4633)  # a residential zone of Phường Thuận Hóa (19789)
NEAR_SITE = (107.5913, 16.4634)  # ~15 m away
FAR = (107.6300, 16.4420)  # no permit within 50 m (checked below)
SEVERITY = ("allowed", "unknown", "conditional", "no_permit", "conflict")
LIVE = ("issued", "under_construction", "completed")


def worst(*verdicts: str | None) -> str:
    return max((v for v in verdicts if v is not None), key=SEVERITY.index)


# --- the rule table -----------------------------------------------------------------------------


def test_the_rule_table_covers_every_zone_type_and_use(client: httpx.Client) -> None:
    rules = read_rules()
    uses = {r["use"] for r in rules if r["subject"] == "building_use"}
    assert len(rules) == len(models.ZONE_TYPES) * (len(uses) + len(models.LAND_USES))
    served = client.get("/api/planning/rules").json()
    key = ("zone_type", "subject", "use", "verdict", "note")
    assert sorted(tuple(r[k] for k in key) for r in served) == sorted(tuple(r[k] for k in key) for r in rules)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["land_use"]["residential"]["conditional"].remove("NTS"), "misses ['NTS']"),
        (lambda d: d["building_use"]["forest"]["conflict"].append("house"), "listed twice"),
        (lambda d: d["building_use"].update(casino={"allowed": ["hotel"]}), "unknown zone types ['casino']"),
        (lambda d: d["building_use"]["tourism"].update(maybe=["hotel"]), "verdict other than"),
        (lambda d: d["notes"].append({"zone_type": "forest", "subject": "land_use", "use": "XYZ", "note": "?"}),
         "notes on rules that do not exist"),
    ],
    ids=["gap", "twice", "unknown-zone-type", "unknown-verdict", "orphan-note"],
)  # fmt: skip
def test_a_broken_rule_file_is_refused_naming_the_problem(tmp_path: Path, change: Callable, message: str) -> None:
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    change(data)
    broken = tmp_path / "planning_rules.yml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_rules(broken)


def test_loading_unchanged_rules_leaves_the_layer_alone(db: psycopg.Connection) -> None:
    version = db.execute("SELECT version FROM layer_versions WHERE layer_id = 'planning_conflicts'").fetchone()
    assert load_rules(db) == len(read_rules())
    assert db.execute("SELECT version FROM layer_versions WHERE layer_id = 'planning_conflicts'").fetchone() == version


# --- the layer against an independent check ---------------------------------------------------------


def frame(engine: Any, query: str) -> gpd.GeoDataFrame:
    return gpd.read_postgis(query, engine, geom_col="geom")


def site_of(points: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each point's zone and parcel (the lowest code where several meet it), with geopandas."""
    out = points.copy()
    for layer, key, columns in ((zones, "plan_code", ["zone_type"]), (parcels, "parcel_no", ["land_use"])):
        joined = gpd.sjoin(points[["geom"]], layer[[key, *columns, "geom"]], predicate="intersects", how="left")
        first = joined.sort_values(key).groupby(level=0).first()
        for column in (key, *columns):
            out[column] = first[column].reindex(out.index)
    return out


def text(value: Any) -> str | None:
    """A text column as read by pandas: None for NULL (pandas says NaN)."""
    return value if isinstance(value, str) else None


def rule(rules: dict[tuple[str, str, str], str], zone_type: Any, subject: str, use: Any) -> str:
    if not isinstance(zone_type, str) or not isinstance(use, str):
        return "unknown"
    return rules.get((zone_type, subject, use), "unknown")


def test_the_layer_matches_an_independent_check(loaded: Settings, db: psycopg.Connection) -> None:
    """Every live permit and open construction report not 'allowed' is in the layer with the verdict geopandas
    and pyproj reach from the rule file, and nothing else is."""
    db.execute("SELECT huegis_refresh_planning_conflicts()")  # other tests edit permits and zones
    rules = {(r["zone_type"], r["subject"], r["use"]): r["verdict"] for r in read_rules()}
    engine = create_engine(loaded.sqlalchemy_url())
    try:
        zones = frame(engine, "SELECT plan_code, zone_type, geom FROM planning_zones")
        parcels = frame(engine, "SELECT parcel_no, land_use, geom FROM land_parcels")
        permits = frame(engine, "SELECT id, permit_no, building_use, status, geom FROM construction_permits")
        reports = frame(engine, "SELECT id, code, status, geom FROM citizen_reports "
                                "WHERE category = 'construction_violation'")  # fmt: skip
        layer = frame(engine, "SELECT subject_type, subject_code, verdict, plan_code, parcel_no, permit_no, geom "
                              "FROM planning_conflicts")  # fmt: skip
    finally:
        engine.dispose()
    live = site_of(permits[permits.status.isin(LIVE)], zones, parcels)
    expected = set()
    for p in live.itertuples():
        land = rule(rules, p.zone_type, "land_use", p.land_use) if isinstance(p.parcel_no, str) else None
        verdict = worst(rule(rules, p.zone_type, "building_use", p.building_use), land)
        if verdict != "allowed":
            expected.add(("permit", p.permit_no, verdict, text(p.plan_code), text(p.parcel_no)))
    found = {(r.subject_type, r.subject_code, r.verdict, text(r.plan_code), text(r.parcel_no))
             for r in layer[layer.subject_type == "permit"].itertuples()}  # fmt: skip
    assert found == expected
    assert len(found) > 0

    # Reports: the nearest live permit within 50 m on the WGS 84 ellipsoid (pyproj), and the parcel's land use.
    geod = Geod(ellps="WGS84")
    open_reports = site_of(reports[~reports.status.isin(("closed", "rejected", "duplicate"))], zones, parcels)
    live_sites = site_of(permits[permits.status.isin(LIVE)], zones, parcels)
    expected_reports, borderline = {}, set()
    for r in open_reports.itertuples():
        near = live_sites.cx[r.geom.x - 0.001 : r.geom.x + 0.001, r.geom.y - 0.001 : r.geom.y + 0.001]
        distances = sorted(
            (geod.inv(r.geom.x, r.geom.y, p.geom.x, p.geom.y)[2], p.permit_no, p.building_use)
            for p in near.itertuples()
        )
        within = [d for d in distances if d[0] <= PERMIT_RADIUS_M]
        if any(abs(d[0] - PERMIT_RADIUS_M) < 0.01 for d in distances):
            borderline.add(r.code)  # a centimetre from the radius: either answer is right
        land = rule(rules, r.zone_type, "land_use", r.land_use) if isinstance(r.parcel_no, str) else None
        permit_no = within[0][1] if within else None
        use = rule(rules, r.zone_type, "building_use", within[0][2]) if within else "no_permit"
        verdict = worst(land, use)
        if verdict != "allowed":
            expected_reports[r.code] = (verdict, permit_no)
    reported = layer[layer.subject_type == "report"]
    found_reports = {r.subject_code: (r.verdict, text(r.permit_no)) for r in reported.itertuples()}
    differ = {code for code in expected_reports.keys() | found_reports.keys()
              if expected_reports.get(code) != found_reports.get(code)}  # fmt: skip
    assert differ <= borderline, {c: (expected_reports.get(c), found_reports.get(c)) for c in differ}
    assert len(found_reports) > 0


# --- the layer follows edits and the report workflow --------------------------------------------------


@pytest.fixture
def admin(staff_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
    return staff_headers("gis_admin")


def conflict_rows(client: httpx.Client, code: str) -> list[dict[str, Any]]:
    """The layer's features of one permit or report, over OGC API Features."""
    page = client.get("/ogc/collections/planning_conflicts/items", params={"subject_code": code}).json()
    return [f["properties"] for f in page["features"]]


def tile_codes(client: httpx.Client, lon: float, lat: float, z: int = 16) -> set[str]:
    tile = TMS.tile(lon, lat, z)
    response = client.get(f"/tiles/planning_conflicts/{z}/{tile.x}/{tile.y}.mvt", headers={"Cache-Control": "no-cache"})
    if response.status_code == 204:
        return set()
    decoded = mapbox_vector_tile.decode(response.content).get("planning_conflicts", {"features": []})
    return {f["properties"]["subject_code"] for f in decoded["features"]}


def patch(client: httpx.Client, layer: str, fid: Any, body: dict[str, Any], headers: dict[str, str]) -> dict:
    etag = client.get(f"/ogc/collections/{layer}/items/{fid}").headers["ETag"]
    response = client.patch(f"/ogc/collections/{layer}/items/{fid}", json=body,
                            headers={**headers, **MERGE_PATCH, "If-Match": etag})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def permit(client: httpx.Client, admin: dict[str, str], db: psycopg.Connection) -> Iterator[dict[str, Any]]:
    """A factory permitted in a residential zone, made through the editing API."""
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(SITE)},
            "properties": {"permit_no": "GPXD-TEST-PLAN-1", "project_name": "Xưởng cơ khí (thử)",
                           "permit_type": "new_build", "building_use": "factory", "status": "issued",
                           "issued_on": "2026-11-02", "floors": 2}}  # fmt: skip
    response = client.post("/ogc/collections/construction_permits/items", json=body, headers={**admin, **GEOJSON})
    assert response.status_code == 201, response.text
    yield response.json()
    db.execute("DELETE FROM construction_permits WHERE permit_no = 'GPXD-TEST-PLAN-1'")


def test_the_layer_and_its_tiles_follow_permit_edits(client: httpx.Client, admin: dict[str, str],
                                                     permit: dict[str, Any]) -> None:  # fmt: skip
    rows = conflict_rows(client, "GPXD-TEST-PLAN-1")
    assert [(r["subject_type"], r["zone_type"], r["use_verdict"], r["verdict"]) for r in rows] == [
        ("permit", "residential", "conflict", "conflict")
    ]
    assert "factory in a residential zone: conflict" in rows[0]["reason"]
    assert "GPXD-TEST-PLAN-1" in tile_codes(client, *SITE)
    check = client.get("/api/planning/permits/GPXD-TEST-PLAN-1").json()
    assert (check["verdict"], check["zone_type"]) == ("conflict", "residential")
    assert check["plan_code"] == rows[0]["plan_code"]

    patch(client, "construction_permits", permit["id"], {"properties": {"building_use": "house"}}, admin)
    assert conflict_rows(client, "GPXD-TEST-PLAN-1") == []  # a house in a residential zone is allowed
    assert "GPXD-TEST-PLAN-1" not in tile_codes(client, *SITE)
    patch(client, "construction_permits", permit["id"], {"properties": {"building_use": "hotel"}}, admin)
    assert [r["verdict"] for r in conflict_rows(client, "GPXD-TEST-PLAN-1")] == ["conditional"]
    assert client.get("/api/planning/permits/NO-SUCH-PERMIT").status_code == 404


def test_a_construction_report_shows_its_planning_check_to_staff(
    client: httpx.Client, admin: dict[str, str], permit: dict[str, Any],
    staff_headers: Callable[..., dict[str, str]], db: psycopg.Connection,
) -> None:  # fmt: skip
    """Filed near the factory: the staff view names the zone, the permit and the conflict, and the report is in
    the layer while it is open; far from any permit it is 'no_permit'; other categories have no planning check."""
    officer = staff_headers("ward_officer", unit="19789")
    filed = client.post(
        "/api/reports",
        json={
            "category": "construction_violation",
            "lon": NEAR_SITE[0],
            "lat": NEAR_SITE[1],
            "description": "Xưởng đang xây giữa khu dân cư",
        },
    )
    assert filed.status_code == 201, filed.text
    code = filed.json()["code"]
    view = client.get(f"/api/staff/reports/{code}", headers=officer).json()["planning"]
    assert (view["zone_type"], view["permit_no"], view["building_use"], view["use_verdict"], view["verdict"]) == (
        "residential", "GPXD-TEST-PLAN-1", "factory", "conflict", "conflict"
    )  # fmt: skip
    assert 5 < view["permit_distance_m"] < PERMIT_RADIUS_M
    assert [r["verdict"] for r in conflict_rows(client, code)] == ["conflict"]

    # The permit changes: the report's row follows (the permits' trigger rewrites the open reports).
    patch(client, "construction_permits", permit["id"], {"properties": {"building_use": "house"}}, admin)
    assert conflict_rows(client, code) == []
    assert client.get(f"/api/staff/reports/{code}", headers=officer).json()["planning"]["verdict"] == "allowed"

    far = client.post("/api/reports", json={"category": "construction_violation", "lon": FAR[0], "lat": FAR[1],
                                            "description": "Công trình không phép ven đường"})  # fmt: skip
    far_code = far.json()["code"]
    far_view = client.get(f"/api/staff/reports/{far_code}", headers=staff_headers("operator")).json()["planning"]
    assert far_view["permit_no"] is None and far_view["verdict"] == "no_permit"
    assert "no live construction permit within 50 m" in far_view["reason"]
    assert [r["verdict"] for r in conflict_rows(client, far_code)] == ["no_permit"]
    assert far_code in tile_codes(client, *FAR)

    # Handled: a rejected report leaves the layer.
    unit = db.execute("SELECT admin_unit_code FROM citizen_reports WHERE code = %s", (far_code,)).fetchone()
    assert unit is not None
    rejected = client.post(f"/api/reports/{far_code}/actions", json={"action": "reject", "note": "Đã có giấy phép"},
                           headers=staff_headers("ward_officer", unit=unit[0]))  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    assert conflict_rows(client, far_code) == []

    other = client.post("/api/reports", json={"category": "garbage", "lon": SITE[0], "lat": SITE[1],
                                              "description": "Rác tồn đọng trước nhà"})  # fmt: skip
    assert client.get(f"/api/staff/reports/{other.json()['code']}", headers=officer).json()["planning"] is None


def test_a_zone_change_rewrites_the_layer(
    client: httpx.Client, admin: dict[str, str], permit: dict[str, Any], staff_headers: Callable[..., dict[str, str]],
    db: psycopg.Connection,
) -> None:  # fmt: skip
    """The Department of Construction re-zones the block to industrial: the factory fits, and the layer says so."""
    construction = staff_headers("department_officer", department="so_xay_dung")
    plan_code = conflict_rows(client, "GPXD-TEST-PLAN-1")[0]["plan_code"]
    row = db.execute("SELECT id, zone_type FROM planning_zones WHERE plan_code = %s", (plan_code,)).fetchone()
    assert row is not None
    zone_id, zone_type = row
    try:
        patch(client, "planning_zones", zone_id, {"properties": {"zone_type": "industrial"}}, construction)
        assert conflict_rows(client, "GPXD-TEST-PLAN-1") == []
        assert client.get("/api/planning/permits/GPXD-TEST-PLAN-1").json()["zone_type"] == "industrial"
    finally:
        patch(client, "planning_zones", zone_id, {"properties": {"zone_type": zone_type}}, construction)
    assert [r["verdict"] for r in conflict_rows(client, "GPXD-TEST-PLAN-1")] == ["conflict"]


def test_far_is_far_from_every_permit(db: psycopg.Connection) -> None:
    """The 'no_permit' site of the report test has no live permit within 50 m."""
    row = db.execute("SELECT count(*) FROM construction_permits WHERE ST_DWithin(geom::geography, "
                     "ST_SetSRID(ST_Point(%s, %s), 4326)::geography, 100)", FAR).fetchone()  # fmt: skip
    assert row == (0,)


def test_cli_refresh_prints_the_layer(loaded: Settings, db: psycopg.Connection,
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("HUEGIS_DB_NAME", loaded.db_name)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["planning", "refresh"])
        unknown = CliRunner().invoke(app, ["planning", "permit", "NO-SUCH-PERMIT"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    total = db.execute("SELECT count(*) FROM planning_conflicts").fetchone()
    assert total is not None and f"planning_conflicts: {total[0]} features" in result.output
    assert unknown.exit_code == 1 and "no permit 'NO-SUCH-PERMIT'" in unknown.output
