"""Hostile strings into every text parameter of our endpoints (listed from the running server's
/openapi.json): every string query and path parameter, every string field of JSON and form bodies.
Staff operations are called signed in, with a role allowed to use them, so the hostile text travels
past authentication to the service and the database (not stopped at a 401).

No answer may be a 5xx, no table may change except by the reports, calls and zones legitimately
filed, the hostile text is stored exactly as sent (bound parameters), and HTML pages escape it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import auth_helpers
import httpx
import psycopg
import pytest
from disaster_fixtures import SQUARE, zone_body
from psycopg import sql

from geo.settings import Settings

HOSTILE = (
    "'; DROP TABLE citizen_reports;--",
    "1 OR 1=1",
    "' OR '1'='1' --",
    "' UNION SELECT usename, passwd, null FROM pg_shadow--",
    '"; SELECT pg_sleep(10);--',
    "%00",
    "\u0000",
    "../../../../etc/passwd",
    "<script>alert('huegis')</script>",
    "{{7*7}}${7*7}",
    "Huế 🌊 \u202e\ufeff\u200b ﷽ 𝕳",
    "x" * 5000,
)
SCRIPT = "<script>alert('huegis')</script>"
CITADEL = (107.5795, 16.4680)
# Valid values for path parameters, so that each request reaches the code that reads the one hostile value.
PATH_DEFAULTS: dict[str, Any] = {
    "fmt": "json",
    "service_code": "garbage",
    "n": 1,
    "z": 12,
    "x": 3273,
    "y": 1866,
    "tms_id": "WebMercatorQuad",
    "tile_matrix": "12",
    "tile_row": "1866",
    "tile_col": "3273",
    "layer": "schools",
    "layer_id": "schools",
    "tileset_id": "schools",
    "name": "flood_depth_100y",
}
# Bodies that pass validation, so that each hostile field travels as far as it can (to the database).
JSON_BODIES: dict[str, dict[str, Any]] = {
    "/api/reports": {
        "category": "garbage",
        "description": "Rác thải tồn đọng nhiều ngày ở góc đường",
        "lon": CITADEL[0],
        "lat": CITADEL[1],
    },
}
REPORT_INSERTS = {("post", "/api/reports"), ("post", "/open311/v2/requests.{fmt}"), ("post", "/api/hotline/reports")}
# Staff bodies that pass validation (besides the hostile field), so the text reaches the database.
STAFF_BODIES: dict[str, dict[str, Any]] = {
    "/api/reports/{code}/actions": {"action": "escalate", "note": "Chuyển lên thành phố xử lý"},
    "/api/hotline/reports": {**JSON_BODIES["/api/reports"], "direction": "in", "duration_s": 60},
    "/api/hotline/calls": {"direction": "in", "duration_s": 60},
    "/api/disasters": zone_body(SQUARE),
    "/api/disasters/{zone_id}": {"severity": "Extreme"},
    "/api/hotspots/run": {"period": "week"},
}
ROLES_BY_PATH = (("/api/disasters", "emergency_officer"), ("/api/hotspots", "gis_admin"), ("/api/layers", "gis_admin"),
                 ("/ogc/", "gis_admin"))  # fmt: skip
# Staff writes a signed-in caller may legitimately make with hostile text (triggers included).
STAFF_TABLES = {"hotline_calls", "disaster_zones", "disaster_messages", "layer_versions", "report_events"}


@pytest.fixture(scope="module")
def spec(server: str) -> dict[str, Any]:
    return httpx.get(f"{server}/openapi.json", timeout=30).json()


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def path_values(http: httpx.Client) -> dict[str, Any]:
    """PATH_DEFAULTS plus ids that exist in the test database."""
    code = http.get("/api/reports", params={"limit": 1}).json()["features"][0]["id"]
    rasters = http.get("/api/rasters").json()
    return {
        **PATH_DEFAULTS,
        "code": code,
        "service_request_id": code,
        "token_id": code,
        "zone_id": 1,
        "run_id": 1,
        "name": rasters[0]["name"] if rasters else PATH_DEFAULTS["name"],
    }


@pytest.fixture(scope="module")
def signed_in(loaded: Settings) -> Callable[[str, dict[str, Any]], dict[str, str]]:
    """The headers an operation needs: none for public ones, a staff member allowed to use it otherwise."""
    cache: dict[str, dict[str, str]] = {}

    def headers(path: str, op: dict[str, Any]) -> dict[str, str]:
        if not op.get("security"):
            return {}
        role = next((role for prefix, role in ROLES_BY_PATH if path.startswith(prefix)), "operator")
        if role not in cache:
            cache[role] = auth_helpers.staff_headers(loaded, role)
        return cache[role]

    return headers


@pytest.fixture(scope="module", autouse=True)
def remove_zones(loaded: Settings) -> Iterator[None]:
    """Zones the signed-in emergency officer creates with hostile text are deleted afterwards."""
    with psycopg.connect(loaded.conninfo(), autocommit=True) as db:
        last = db.execute("SELECT coalesce(max(id), 0) FROM disaster_zones").fetchone()[0]  # type: ignore[index]
        yield
        db.execute("DELETE FROM disaster_zones WHERE id > %s", (last,))


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, op


def is_text(schema: dict[str, Any]) -> bool:
    """A schema that accepts a string (plain, enum, or one branch of anyOf)."""
    return schema.get("type") == "string" or any(is_text(s) for s in schema.get("anyOf", []))


def url(path: str, values: dict[str, Any], **override: Any) -> str:
    def fill(match: re.Match) -> str:
        return quote(str({**values, **override}.get(match[1], "1")), safe="")

    return re.sub(r"\{(\w+)\}", fill, path)


def table_counts(db: psycopg.Connection) -> dict[str, int]:
    tables = [row[0] for row in db.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    ).fetchall()]  # fmt: skip
    count = sql.SQL("SELECT count(*) FROM {}")
    return {t: db.execute(count.format(sql.Identifier(t))).fetchone()[0] for t in tables}  # type: ignore[index]


def json_body(path: str, schema: dict[str, Any], components: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A body for ``schema`` (a known valid one when we have it) and the names of its string fields."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    properties = schema.get("properties", {})
    texts = [name for name, prop in properties.items() if is_text(prop)]
    if path in JSON_BODIES or path in STAFF_BODIES:
        return dict(JSON_BODIES.get(path) or STAFF_BODIES[path]), texts
    body: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = properties.get(name, {})
        body[name] = "x" if is_text(prop) else 1 if prop.get("type") in ("integer", "number") else {}
    return body, texts


def test_hostile_query_and_path_parameters(http: httpx.Client, spec: dict[str, Any], path_values: dict[str, Any],
                                           db: psycopg.Connection, signed_in: Callable) -> None:  # fmt: skip
    for _method, path, op in operations(spec):  # staff accounts made before counting
        signed_in(path, op)
    before = table_counts(db)
    failures, sent = [], 0
    for method, path, op in operations(spec):
        if method != "get":
            continue  # bodies are the next test's; their query/path parameters are the same code paths
        for param in op.get("parameters", []):
            if param["in"] not in ("query", "path") or not is_text(param.get("schema", {})):
                continue
            headers = signed_in(path, op)
            for payload in HOSTILE:
                try:
                    if param["in"] == "path":
                        response = http.get(url(path, path_values, **{param["name"]: payload}), headers=headers)
                    else:
                        response = http.get(url(path, path_values), params={param["name"]: payload}, headers=headers)
                except httpx.TransportError as exc:  # the server dropped the connection: as bad as a 5xx
                    failures.append(f"GET {path} {param['name']}={payload[:40]!r}: {exc!r}")
                    continue
                sent += 1
                if response.status_code >= 500 or (headers and response.status_code in (401, 403)):
                    failures.append(f"GET {path} {param['name']}={payload[:40]!r}: {response.status_code} "
                                    f"{response.text[:200]}")  # fmt: skip
    assert sent > 200, sent
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:30])
    # Reads changed nothing (the staff queue runs the overdue escalation first: it may add report events).
    assert {**table_counts(db), "report_events": 0} == {**before, "report_events": 0}


def test_hostile_body_fields(http: httpx.Client, spec: dict[str, Any], path_values: dict[str, Any],
                             db: psycopg.Connection, loaded: Settings, signed_in: Callable) -> None:  # fmt: skip
    components = spec.get("components", {}).get("schemas", {})
    for _method, path, op in operations(spec):  # staff accounts made before counting
        signed_in(path, op)
    before = table_counts(db)
    failures, created, sent, staff_sent = [], 0, 0, 0
    for method, path, op in operations(spec):
        content = op.get("requestBody", {}).get("content", {})
        target = url(path, path_values)
        if "application/json" in content:
            base, texts = json_body(path, content["application/json"]["schema"], components)
            attempts = [("json", {**base, name: payload}) for name in texts for payload in HOSTILE]
        elif "application/x-www-form-urlencoded" in content:
            schema = content["application/x-www-form-urlencoded"]["schema"]
            if "$ref" in schema:
                schema = components[schema["$ref"].rsplit("/", 1)[-1]]
            base = {name: "x" for name in schema.get("required", [])}
            if "open311" in path:
                base = {"api_key": loaded.open311_api_keys[0], "service_code": "garbage", "lat": str(CITADEL[1]),
                        "long": str(CITADEL[0]), "description": "Rác thải tồn đọng nhiều ngày"}  # fmt: skip
            texts = [n for n, p in schema.get("properties", {}).items() if is_text(p)]
            attempts = [("data", {**base, name: payload}) for name in texts for payload in HOSTILE]
        else:
            continue
        headers = signed_in(path, op)
        for kind, body in attempts:
            try:
                response = http.request(method, target, headers=headers, **{kind: body})  # type: ignore[arg-type]
            except httpx.TransportError as exc:  # the server dropped the connection: as bad as a 5xx
                failures.append(f"{method.upper()} {path} {str(body)[:120]}: {exc!r}")
                continue
            sent += 1
            if response.status_code >= 500 or (headers and response.status_code in (401, 403)):
                failures.append(
                    f"{method.upper()} {path} {str(body)[:120]}: {response.status_code} {response.text[:200]}"
                )
            elif response.status_code < 300 and (method, path) in REPORT_INSERTS:
                created += 1
            staff_sent += bool(headers)
    assert sent > 100 and staff_sent > 50, (sent, staff_sent)
    assert not failures, f"{len(failures)} server errors or refusals:\n" + "\n".join(failures[:30])
    after = table_counts(db)
    assert set(after) == set(before), "no table may appear or disappear"
    changed = {t for t in after if after[t] != before[t]}
    assert after["citizen_reports"] - before["citizen_reports"] == created
    # Intake writes the report, its events, the reporter and details; failed sign-ins are audited; staff
    # log calls, escalate and write zones.
    # Report writes mark their low-zoom tile cells and KPI unit-months (report_cells_dirty,
    # kpi_dirty_months: triggers).
    assert changed <= {"citizen_reports", "reporters", "idempotency_keys", "audit_log", "report_cells_dirty",
                       "kpi_dirty_months", *STAFF_TABLES}, changed  # fmt: skip


def test_hostile_text_is_stored_exactly(http: httpx.Client, db: psycopg.Connection) -> None:
    for payload in ("'; DROP TABLE citizen_reports;--", "' UNION SELECT 1--", SCRIPT, "Huế 🌊 \u202e"):
        description = f"Báo cáo thử: {payload}"
        response = http.post("/api/reports", json={**JSON_BODIES["/api/reports"], "description": description})
        assert response.status_code == 201, response.text
        row = db.execute("SELECT description FROM citizen_reports WHERE code = %s", (response.json()["code"],))
        assert row.fetchone() == (description,)


def test_nul_characters_are_refused_with_400(http: httpx.Client, db: psycopg.Connection) -> None:
    before = table_counts(db)
    response = http.post("/api/reports", json={**JSON_BODIES["/api/reports"], "description": "Rác thải \u0000 nhiều"})
    assert response.status_code == 400 and "NUL" in response.json()["detail"], response.text
    response = http.get("/api/reports", params={"category": "garbage\u0000"})
    assert response.status_code == 400 and "NUL" in response.json()["detail"], response.text
    assert table_counts(db) == before


PAGES = ("/", "/portal", "/dashboard", "/emergency", "/maps", "/maps/overview", "/ogc", "/ogc/collections",
         "/ogc/collections/citizen_reports", "/ogc/collections/citizen_reports/items")  # fmt: skip


def test_html_pages_escape_the_script_payload(http: httpx.Client) -> None:
    """JSON error bodies may quote the input (JSON is not rendered); HTML must escape it."""
    pages = [*PAGES, f"/ogc/collections/{quote(SCRIPT, safe='')}", f"/maps/{quote(SCRIPT, safe='')}"]
    html = 0
    for page in pages:
        for params in ({"lang": SCRIPT}, {"f": "html", "q": SCRIPT, "category": SCRIPT}, {"f": SCRIPT}):
            response = http.get(page, params=params)
            assert response.status_code < 500, (page, params, response.text[:300])
            if response.headers.get("content-type", "").startswith("text/html"):
                assert SCRIPT not in response.text, (page, params)
                html += 1
    assert html > 10, html


def test_rating_with_a_non_ascii_token_is_refused_not_a_500(http: httpx.Client, path_values: dict[str, Any]) -> None:
    """Regression: hmac.compare_digest raised TypeError on str with non-ASCII characters."""
    response = http.post(f"/api/reports/{path_values['code']}/rating", json={"token": "Huế 🌊 token!", "rating": 4})
    assert response.status_code == 403, response.text


def test_open311_field_with_nul_is_a_400_naming_it(
    http: httpx.Client, loaded: Settings, db: psycopg.Connection
) -> None:
    """Regression: a NUL in address_string reached jsonb (``\\u0000``) and failed there as a 500."""
    before = table_counts(db)
    data = {"api_key": loaded.open311_api_keys[0], "service_code": "garbage", "lat": str(CITADEL[1]),
            "long": str(CITADEL[0]), "description": "Rác thải tồn đọng", "address_string": "12 Lê Lợi\x00"}  # fmt: skip
    response = http.post("/open311/v2/requests.json", data=data)
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["code"] == 400 and "address_string" in error["description"] and "NUL" in error["description"]
    assert table_counts(db) == before


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/api/reports", {"bbox": "1,2,3"}, "bbox"),
        ("/api/reports", {"bbox": "nan,nan,nan,nan"}, "bbox"),
        ("/api/kpis", {"start": "garbage"}, "start"),
        ("/api/kpis", {"start": "0001-01-02"}, "start"),  # was a 500: the previous period overflowed
        ("/api/kpis", {"month": "0001-01"}, "month"),
        ("/api/kpis", {"month": "9999-12"}, "month"),  # was a 500: the month after overflowed
        ("/api/kpis/units/19753", {"month": "2025-13"}, "month"),
        ("/api/bottlenecks", {"at": "0001-01-01"}, "at"),
        ("/api/hotline/stats", {"to": "9999-12-31"}, "to"),  # was a 500: the day after overflowed
        ("/api/hotline/stats", {"from": "1066-10-14"}, "from"),
        ("/api/hotspots/grid", {"start": "2025-02-30"}, "start"),
        ("/api/reports-per-1000", {"month": "x"}, "month"),
    ],
)
def test_bad_time_and_space_parameters_are_400s_naming_them(
    http: httpx.Client, path: str, params: dict[str, str], name: str
) -> None:
    response = http.get(path, params=params)
    assert response.status_code == 400 and response.json()["detail"].startswith(name), response.text
