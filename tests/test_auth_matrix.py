"""Authorisation matrix: every endpoint that needs a principal × every role × in- and out-of-scope objects.

The endpoints are read from the app's OpenAPI document (every operation secured by the staff token
or an API key), so a new staff endpoint without an entry here fails ``test_every_secured_route_is_in_the_matrix``.
Each probe is a real request on the server under test; an allowed probe must succeed (2xx, or for the
heavy hot-spot endpoints the 4xx of a parameter check that runs only after authorisation), and a
refused one must be 401 (anonymous) or 403 and change nothing. Which probes are allowed is a literal
table (``EXPECTED``), written from the documented roles, not computed with the policy under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import auth_helpers
import httpx
import psycopg
import pytest
from disaster_fixtures import SQUARE, zone_body
from psycopg import sql

from geo.auth.policy import Principal
from geo.auth.roles import ROLES
from geo.ogc.config import PROCESS_ID
from geo.settings import Settings
from geo.times import TZ

CITADEL = (107.5795, 16.4680)  # Phường Phú Xuân
WARD = "19753"
DEPARTMENT = "so_xay_dung"  # road damage
OTHER_DEPARTMENT = "huewaco"  # water supply
# The principals: anonymous, every staff role (scoped roles in WARD or DEPARTMENT), every machine role.
PRINCIPALS: dict[str, Principal | None] = {
    "anonymous": None,
    "ward_officer": Principal("matrix.ward_officer", "ward_officer", unit_code=WARD),
    "department_officer": Principal("matrix.department_officer", "department_officer", department=DEPARTMENT),
    "unit_head(ward)": Principal("matrix.unit_head.ward", "unit_head", unit_code=WARD),
    "unit_head(department)": Principal("matrix.unit_head.dept", "unit_head", department=DEPARTMENT),
    **{
        role: Principal(f"matrix.{role}", role)
        for role in ("operator", "city_leader", "emergency_officer", "gis_admin")
    },
    **{role: Principal(f"matrix.{role}", role, kind="api_key") for role in ("open311_client", "hotline_system")},
}
# Reports whose handler is inside or outside the scoped principals' scope.
OBJECTS = ("own_ward", "other_ward", "own_department", "other_department")
# Layers the scoped principals' department owns (construction permits: so_xay_dung) or does not.
LAYER_OBJECTS = {"own_layer": "construction_permits", "other_layer": "health_facilities"}
PROBED_ACTIONS = ("assign", "escalate", "approve_extension")  # one per permission: handle, route, decide


def test_every_role_is_probed() -> None:
    assert {p.role for p in PRINCIPALS.values() if p} == set(ROLES)


@dataclass
class World:
    """What the probes need: the client, the database, headers per principal and where to file reports."""

    client: httpx.Client
    db: psycopg.Connection
    settings: Settings
    headers: dict[str, dict[str, str]]
    other_ward: tuple[str, float, float]  # code, lon, lat
    features: dict[str, str]  # layer → id of a feature created through the editing API (it has a history)

    def file(self, obj: str) -> dict[str, Any]:
        """A fresh report handled by the object's unit or department."""
        category, lon, lat = {
            "own_ward": ("garbage", *CITADEL),
            "other_ward": ("garbage", self.other_ward[1], self.other_ward[2]),
            "own_department": ("road_damage", *CITADEL),
            "other_department": ("water_supply", *CITADEL),
        }[obj]
        body = {"category": category, "description": f"Kiểm tra phân quyền ({obj})", "lon": lon, "lat": lat}
        response = self.client.post("/api/reports", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def zone(self) -> int:
        """A fresh disaster zone (made by the matrix's emergency officer)."""
        response = self.client.post("/api/disasters", json=zone_body(SQUARE), headers=self.fresh("emergency_officer"))
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def fresh(self, name: str) -> dict[str, str]:
        principal = PRINCIPALS[name]
        if principal is None or principal.kind == "api_key":
            return self.headers[name]
        return auth_helpers.bearer(self.settings, principal.username, principal.role)


@pytest.fixture(scope="module")
def world(server: str, loaded: Settings) -> Iterator[World]:
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, principal in PRINCIPALS.items():
        if principal is None:
            continue
        if principal.kind == "api_key":
            headers[name] = auth_helpers.key_headers(loaded, principal.role)
        else:
            auth_helpers.ensure_account(loaded, principal.role, unit=principal.unit_code,
                                        department=principal.department, username=principal.username)  # fmt: skip
    with psycopg.connect(loaded.conninfo(), autocommit=True) as db, httpx.Client(base_url=server, timeout=60) as client:
        row = db.execute(
            "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM admin_units "
            "WHERE level <> 'city' AND code <> %s ORDER BY code LIMIT 1) AS w",
            (WARD,),
        ).fetchone()
        assert row is not None
        features = {layer: edited_feature(client, loaded, layer) for layer in LAYER_OBJECTS.values()}
        world = World(client, db, loaded, headers, (row[0], row[1], row[2]), features)
        yield world
        db.execute("DELETE FROM disaster_zones WHERE id::text IN (SELECT object_id FROM audit_log "
                   "WHERE object_type = 'disaster_zone' AND actor LIKE 'matrix.%%')")  # fmt: skip
        for layer, fid in features.items():
            db.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(layer)), (int(fid),))


FEATURES = {
    "construction_permits": {"permit_no": "GPXD-MATRIX-1", "project_name": "Nhà ở (ma trận)", "permit_type": "repair",
                             "building_use": "house", "status": "issued", "issued_on": "2026-11-02"},
    "health_facilities": {"name": "Phòng khám (ma trận)", "facility_type": "clinic", "ownership": "private"},
}  # fmt: skip


def edited_feature(client: httpx.Client, settings: Settings, layer: str) -> str:
    """A feature created through the editing API, so it has a history."""
    point = {"type": "Point", "coordinates": list(CITADEL)}
    body = {"type": "Feature", "geometry": point, "properties": FEATURES[layer]}
    response = client.post(f"/ogc/collections/{layer}/items", json=body,
                           headers={**auth_helpers.staff_headers(settings, "gis_admin"),
                                    "Content-Type": "application/geo+json"})  # fmt: skip
    assert response.status_code == 201, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def handler(report: dict[str, Any]) -> dict[str, Any]:
    """The routing fields the policy reads, from an intake response."""
    return {"code": report["code"], "responsible_level": report["responsible_level"],
            "admin_unit_code": report["admin_unit"]["code"], "department": report["department"]}  # fmt: skip


# --- probes ---------------------------------------------------------------------------------------

Probe = tuple[str, str, dict[str, Any], bool, tuple[int, ...]]  # method, path, request kwargs, allowed, success

# What each principal may do, written out by hand from the role table in docs/security.md (not computed
# with the production policy): "<object> <probe>" for report probes (objects: OBJECTS; probes: the
# PROBED_ACTIONS, "queue", "report"), and the name of each unscoped probe. Everything else is refused.
HANDLE = ("assign", "escalate", "queue", "report")
# OGC API - Processes: executing the forecast and its jobs (api/routers/processes.py).
PROCESS_PROBES = ("process_execute", "process_jobs", "process_job", "process_job_delete", "process_results")
EXPECTED: dict[str, frozenset[str]] = {
    "anonymous": frozenset(),
    "ward_officer": frozenset({*(f"own_ward {p}" for p in HANDLE), "me"}),
    "department_officer": frozenset({*(f"own_department {p}" for p in HANDLE), "own_layer history", "me"}),
    "unit_head(ward)": frozenset({*(f"own_ward {p}" for p in (*HANDLE, "approve_extension")), "me"}),
    "unit_head(department)": frozenset(
        {*(f"own_department {p}" for p in (*HANDLE, "approve_extension")), "own_layer history", "me"}
    ),
    "operator": frozenset(
        {
            *(f"{o} {p}" for o in OBJECTS for p in ("escalate", "queue", "report")),
            *("escalations", "hotline_report", "hotline_call", "hotline_calls", "me"),
        }
    ),
    "city_leader": frozenset({*(f"{o} {p}" for o in OBJECTS for p in ("queue", "report")), "me"}),
    "emergency_officer": frozenset({"zone_create", "zone_update", "zone_cancel", "flood_exercise", "me"}),
    "gis_admin": frozenset(
        {
            *(f"{o} {p}" for o in LAYER_OBJECTS for p in ("history", "restore")),
            "hotspot_run",
            "hotspot_backtest",
            "layer_import",
            "layer_remove",
            *PROCESS_PROBES,
            "me",
        }
    ),
    "open311_client": frozenset({"me"}),
    "hotline_system": frozenset({"hotline_report", "hotline_call", "hotline_calls", "me"}),
}
ALLOWED_PROBES = 74  # the sum of the table above: a change to it must be deliberate


def test_the_expected_table_is_complete() -> None:
    assert set(EXPECTED) == set(PRINCIPALS)
    assert sum(len(allowed) for allowed in EXPECTED.values()) == ALLOWED_PROBES


def history_probe(world: World, name: str, obj: str) -> Probe:
    layer = LAYER_OBJECTS[obj]
    path = f"/api/layers/{layer}/features/{world.features[layer]}/history"
    return "GET", path, {}, f"{obj} history" in EXPECTED[name], (200,)


def restore_probe(world: World, name: str, obj: str) -> Probe:
    layer = LAYER_OBJECTS[obj]
    path = f"/api/layers/{layer}/features/{world.features[layer]}/history/1/restore"
    return "POST", path, {}, f"{obj} restore" in EXPECTED[name], (200,)


def action_probe(world: World, name: str, obj: str, action: str) -> Probe:
    report = world.file(obj)
    if action == "approve_extension":  # waiting for the head's decision
        world.db.execute("UPDATE citizen_reports SET status = 'assigned', extension_status = 'requested', "
                         "extension_hours = 8 WHERE code = %s", (report["code"],))  # fmt: skip
    body = {"action": action, **({"note": "kiểm tra"} if action == "escalate" else {})}
    allowed = f"{obj} {action}" in EXPECTED[name]
    return "POST", f"/api/reports/{report['code']}/actions", {"json": body}, allowed, (200,)


def queue_probe(world: World, name: str, obj: str) -> Probe:
    report = world.file(obj)
    scope = handler(report)
    params = (
        {"unit": scope["admin_unit_code"]}
        if scope["responsible_level"] == "ward"
        else {"department": scope["department"]}
    )
    return "GET", "/api/staff/queue", {"params": params}, f"{obj} queue" in EXPECTED[name], (200,)


def report_probe(world: World, name: str, obj: str) -> Probe:
    report = world.file(obj)
    return "GET", f"/api/staff/reports/{report['code']}", {}, f"{obj} report" in EXPECTED[name], (200,)


def unscoped_probes(world: World, name: str) -> dict[tuple[str, str], Probe]:
    """One probe per endpoint whose permission does not depend on a report."""
    onset = datetime.now(TZ).replace(microsecond=0)
    call = {"direction": "in", "duration_s": 42, "note": "matrix"}
    hotline_report = {**call, "category": "garbage", "description": "Rác chất đống trước nhà (ma trận)",
                      "lon": CITADEL[0], "lat": CITADEL[1]}  # fmt: skip
    can = EXPECTED[name].__contains__
    zone = world.zone() if can("zone_update") else 1  # refused requests never reach the zone
    cancel_zone = world.zone() if can("zone_cancel") else 1
    exercise = {"return_period_years": 100, "onset": (onset + timedelta(days=1)).isoformat(), "hours": 6}
    tiny_csv = {"events": ("x.csv", b"id,created_at\n", "text/csv")}
    point = json.dumps({"type": "Feature", "properties": {"ten": "a"},
                        "geometry": {"type": "Point", "coordinates": CITADEL}}).encode()  # fmt: skip
    dry_import = {"files": {"file": ("a.geojson", point)}, "data": {"dry_run": "true"}}
    # (probe, method, route, path, request, success); heavy hot-spot probes stop at a parameter
    # check that runs only after authorisation.
    rows = [
        ("escalations", "POST", "/api/staff/escalations", None, {}, (200,)),
        ("hotline_report", "POST", "/api/hotline/reports", None, {"json": hotline_report}, (201,)),
        ("hotline_call", "POST", "/api/hotline/calls", None, {"json": call}, (201,)),
        ("hotline_calls", "GET", "/api/hotline/calls", None, {}, (200,)),
        ("zone_create", "POST", "/api/disasters", None, {"json": zone_body(SQUARE)}, (201,)),
        ("zone_update", "PATCH", "/api/disasters/{zone_id}", f"/api/disasters/{zone}",
         {"json": {"severity": "Extreme"}}, (200,)),
        ("zone_cancel", "POST", "/api/disasters/{zone_id}/cancel", f"/api/disasters/{cancel_zone}/cancel", {}, (200,)),
        ("flood_exercise", "POST", "/api/disasters/exercises/flood", None, {"json": exercise}, (201,)),
        ("hotspot_run", "POST", "/api/hotspots/run", None, {"json": {"category": "no_such_category"}}, (404,)),
        ("hotspot_backtest", "POST", "/api/hotspots/backtest", None, {"files": tiny_csv}, (400,)),
        ("process_execute", "POST", "/ogc/processes/{process_id}/execution", f"/ogc/processes/{PROCESS_ID}/execution",
         {"json": {"inputs": {"period": "year"}}}, (400,)),
        ("process_jobs", "GET", "/ogc/jobs", None, {}, (200,)),
        ("process_job", "GET", "/ogc/jobs/{job_id}", "/ogc/jobs/no-such-job", {}, (404,)),
        ("process_job_delete", "DELETE", "/ogc/jobs/{job_id}", "/ogc/jobs/no-such-job", {}, (404,)),
        ("process_results", "GET", "/ogc/jobs/{job_id}/results", "/ogc/jobs/no-such-job/results", {}, (404,)),
        ("me", "GET", "/api/auth/me", None, {}, (200,)),
        # An import's dry run writes nothing; removing a layer that does not exist is a 404 after authorisation.
        ("layer_import", "POST", "/api/layers/{layer_id}/imports", "/api/layers/matrix_points/imports", dry_import,
         (200,)),
        ("layer_remove", "DELETE", "/api/layers/{layer_id}", "/api/layers/matrix_no_such_layer", {}, (404,)),
    ]  # fmt: skip
    return {(method, route): (method, path or route, kwargs, can(probe), success)
            for probe, method, route, path, kwargs, success in rows}  # fmt: skip


SCOPED = {
    ("POST", "/api/reports/{code}/actions"): "actions",
    ("GET", "/api/staff/queue"): "queue",
    ("GET", "/api/staff/reports/{code}"): "report",
}
LAYER_SCOPED = {
    ("GET", "/api/layers/{layer_id}/features/{fid}/history"): history_probe,
    ("POST", "/api/layers/{layer_id}/features/{fid}/history/{version}/restore"): restore_probe,
}


def secured_operations(client: httpx.Client) -> set[tuple[str, str]]:
    """Every operation of our OpenAPI document that names a security scheme (the principal dependency)."""
    spec = client.get("/openapi.json").json()
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    }


def test_every_secured_route_is_in_the_matrix(world: World) -> None:
    covered = set(SCOPED) | set(LAYER_SCOPED) | set(unscoped_probes(world, "anonymous"))
    assert secured_operations(world.client) == covered


# --- the matrix ---------------------------------------------------------------------------------

RESULTS: dict[str, tuple[int, int]] = {}  # principal → (probes, allowed)


def run(world: World, name: str, probe: Probe, failures: list[str]) -> None:
    method, path, kwargs, allowed, success = probe
    response = world.client.request(method, path, headers=world.fresh(name), **kwargs)
    refused = 401 if PRINCIPALS[name] is None else 403
    if allowed and response.status_code not in success:
        failures.append(
            f"{name} {method} {path}: allowed, expected {success}, got {response.status_code} {response.text[:200]}"
        )
    if not allowed and response.status_code != refused:
        failures.append(
            f"{name} {method} {path}: must be refused ({refused}), got {response.status_code} {response.text[:200]}"
        )
    if not allowed and response.status_code == 403:
        assert response.json()["detail"], "a 403 names what is missing"
    if not allowed and path.endswith("/actions"):  # nothing was written: the trail holds only the intake
        code = path.split("/")[3]
        row = world.db.execute("SELECT count(*) FROM report_events e JOIN citizen_reports r ON r.id = e.report_id "
                               "WHERE r.code = %s", (code,)).fetchone()  # fmt: skip
        if row != (1,):
            failures.append(f"{name} {method} {path}: refused but wrote {row} events")


@pytest.mark.parametrize("name", list(PRINCIPALS))
def test_matrix(world: World, name: str) -> None:
    probes: list[Probe] = []
    for obj in OBJECTS:
        probes += [action_probe(world, name, obj, action) for action in PROBED_ACTIONS]
        probes += [queue_probe(world, name, obj), report_probe(world, name, obj)]
    for obj in LAYER_OBJECTS:
        probes += [probe(world, name, obj) for probe in LAYER_SCOPED.values()]
    probes += list(unscoped_probes(world, name).values())
    failures: list[str] = []
    for probe in probes:
        run(world, name, probe, failures)
    assert failures == [], "\n".join(failures)
    RESULTS[name] = (len(probes), sum(p[3] for p in probes))


def test_matrix_size(world: World) -> None:
    """Runs after the matrix: every principal was probed on every endpoint (and prints the totals)."""
    probes = sum(n for n, _ in RESULTS.values())
    allowed = sum(a for _, a in RESULTS.values())
    print(f"\nauthorisation matrix: {len(RESULTS)} principals, {probes} probes, {allowed} allowed, "
          f"{probes - allowed} refused, 0 unauthorised successes")  # fmt: skip
    assert set(RESULTS) == set(PRINCIPALS)
