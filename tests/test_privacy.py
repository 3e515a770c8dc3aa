"""Reporters' personal data and staff free text never leave through a public door; only the report's
handlers see them.

Reports are filed through every channel (web form, hotline operator, Open311 client) with a
distinctive name, phone and email; staff then write notes on them (assign, escalate), request an
extension with a reason, resolve one with a public result, and the citizen rates it with a comment,
each text carrying a marker (finding 1: notes, extension reasons and rating comments were public).
Then every public GET endpoint of our API (read from the OpenAPI document, path parameters filled
with these reports), the OGC API collection, the vector tiles (decoded), the feeds and pages are
scanned for those values: only the published result may appear. pygeoapi must stay read-only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import auth_helpers
import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from disaster_fixtures import zone_body

from geo.settings import Settings

CITADEL = (107.5795, 16.4680)  # Phường Phú Xuân
PHU_XUAN = "19753"
TMS = morecantile.tms.get("WebMercatorQuad")
# Zone around the reports, so the exposure endpoint and /emergency list them.
RING = [[107.575, 16.465], [107.585, 16.465], [107.585, 16.472], [107.575, 16.472], [107.575, 16.465]]


@dataclass(frozen=True)
class Filed:
    codes: list[str]
    secrets: list[str]
    zone_id: int
    result: str  # the resolve note: written for the public
    usernames: list[str]  # of the staff who acted: shown to staff, never to the public


def handle(client: httpx.Client, loaded: Settings, codes: list[str], tag: str, token: str) -> tuple[list[str], str]:
    """Staff work the reports with notes that name people; the citizen rates with a comment. (markers, result)"""
    officer = auth_helpers.staff_headers(loaded, "ward_officer", unit=PHU_XUAN)
    head = auth_helpers.staff_headers(loaded, "unit_head", unit=PHU_XUAN)
    markers = [f"gọi ông Quý {tag} 0913{n}" for n in range(4)]
    result = f"Đã thu gom rác, đường đã sạch ({tag})"
    steps = [
        (officer, {"action": "assign", "note": markers[0]}),
        (officer, {"action": "start"}),
        (officer, {"action": "request_extension", "hours": 8, "note": markers[1]}),
        (head, {"action": "approve_extension", "note": markers[2]}),
        (officer, {"action": "resolve", "note": result}),
    ]
    for headers, body in steps:
        response = client.post(f"/api/reports/{codes[0]}/actions", json=body, headers=headers)
        assert response.status_code == 200, response.text
    rating = client.post(f"/api/reports/{codes[0]}/rating", json={"token": token, "rating": 4,
                                                                  "comment": f"Cảm ơn anh Tâm {tag} 0988"})  # fmt: skip
    assert rating.status_code == 200, rating.text
    operator = auth_helpers.staff_headers(loaded, "operator")
    escalated = client.post(f"/api/reports/{codes[1]}/actions", headers=operator,
                            json={"action": "escalate", "note": markers[3]})  # fmt: skip
    assert escalated.status_code == 200, escalated.text
    return [*markers, f"anh Tâm {tag}"], result


@pytest.fixture(scope="module")
def filed(server: str, loaded: Settings) -> Iterator[Filed]:
    tag = uuid.uuid4().hex[:6]
    name, phone, email = f"Trần Bí Mật {tag}", f"0905{int(tag, 16) % 10**6:06d}", f"bimat.{tag}@example.vn"
    codes = []
    with httpx.Client(base_url=server, timeout=60) as client:
        web = client.post("/api/reports", json={
            "category": "garbage", "description": f"Rác chất đống bên đường ({tag})", "lon": CITADEL[0],
            "lat": CITADEL[1], "reporter_name": name, "reporter_phone": phone, "reporter_email": email,
        })  # fmt: skip
        assert web.status_code == 201, web.text
        codes.append(web.json()["code"])
        operator = auth_helpers.staff_headers(loaded, "operator")
        hotline = client.post("/api/hotline/reports", headers=operator, json={
            "category": "road_damage", "description": f"Ổ gà lớn giữa đường ({tag})", "lon": CITADEL[0] + 0.001,
            "lat": CITADEL[1], "duration_s": 90, "caller_name": name, "caller_phone": phone,
        })  # fmt: skip
        assert hotline.status_code == 201, hotline.text
        codes.append(hotline.json()["code"])
        first, last = name.rsplit(" ", 1)
        open311 = client.post("/open311/v2/requests.json", data={
            "api_key": loaded.open311_api_keys[0], "service_code": "noise", "lat": CITADEL[1],
            "long": CITADEL[0] - 0.001, "description": f"Karaoke ồn ào đến nửa đêm ({tag})", "first_name": first,
            "last_name": last, "email": email, "phone": phone, "device_id": f"device-{tag}",
        })  # fmt: skip
        assert open311.status_code == 200, open311.text
        codes.append(open311.json()[0]["service_request_id"])
        officer = auth_helpers.staff_headers(loaded, "emergency_officer")
        zone = client.post("/api/disasters", json=zone_body(RING), headers=officer)
        assert zone.status_code == 201, zone.text
        notes, result = handle(client, loaded, codes, tag, web.json()["follow_token"])
        # The staff who acted: their usernames must not be public either (finding 3: actors in documents).
        acted = (("emergency_officer", None), ("ward_officer", PHU_XUAN), ("unit_head", PHU_XUAN), ("operator", None))
        usernames = [auth_helpers.account_name(role, unit) for role, unit in acted]
        yield Filed(codes, [name, phone, email, f"device-{tag}", *notes], zone.json()["id"], result, usernames)
    with psycopg.connect(loaded.conninfo(), autocommit=True) as db:
        db.execute("DELETE FROM disaster_zones WHERE id = %s", (zone.json()["id"],))


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s.lower() in text.lower()]


def public_get_paths(client: httpx.Client, filed: Filed) -> list[str]:
    """Every public GET path of our OpenAPI document, path parameters filled with the filed reports."""
    spec = client.get("/openapi.json").json()
    z, x, y = (lambda t: (t.z, t.x, t.y))(TMS.tile(*CITADEL, 15))
    values = {"code": filed.codes[0], "service_request_id": filed.codes[2], "token_id": filed.codes[2],
              "fmt": "json", "zone_id": str(filed.zone_id), "layer": "citizen_reports",
              "tileset_id": "citizen_reports", "collectionId": "citizen_reports", "tms_id": "WebMercatorQuad",
              "z": str(z), "x": str(x), "y": str(y), "tileMatrix": str(z), "tileRow": str(y), "tileCol": str(x),
              "n": "1", "name": "overview", "service_code": "garbage", "run_id": "1"}  # fmt: skip
    paths = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or get.get("security"):
            continue
        names = re.findall(r"{(\w+)}", path)
        if all(n in values for n in names):
            paths.append(re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path))
    return paths


def test_no_public_response_contains_a_reporter(client: httpx.Client, filed: Filed) -> None:
    paths = public_get_paths(client, filed)
    assert len(paths) > 40, paths  # the sweep reaches most of the API
    extra = [
        "/api/reports?limit=1000",
        f"/api/reports/{filed.codes[1]}",
        f"/api/reports/{filed.codes[2]}",
        "/ogc/collections/citizen_reports/items?f=json&limit=10000",
        "/ogc/collections/citizen_reports/items?f=html&limit=100",
        *(f"/ogc/collections/citizen_reports/items/{code}?f=json" for code in filed.codes),
        "/open311/v2/requests.xml",
        *(f"/open311/v2/requests/{code}.xml" for code in filed.codes),
        "/feeds/cap.atom", "/feeds/disasters.geojson", f"/feeds/cap/{filed.zone_id}.xml",
        "/emergency", "/emergency?lang=en", "/portal", "/dashboard",
        f"/api/disasters/{filed.zone_id}/exposure",
    ]  # fmt: skip
    found = []
    for path in [*paths, *extra]:
        response = client.get(path)
        if response.status_code >= 500:
            found.append(f"{path}: {response.status_code}")
        hits = leaks(response.content.decode("utf-8", "replace"), [*filed.secrets, *filed.usernames])
        if hits:
            found.append(f"{path}: {hits}")
    assert found == []
    public = client.get(f"/api/reports/{filed.codes[0]}").json()
    assert public["result_note"] == filed.result and public["status"] == "closed"
    timeline = [(e["action"], e["note"]) for e in public["timeline"]]
    assert ("resolve", filed.result) in timeline and all(n is None for a, n in timeline if a != "resolve"), timeline
    exposure = client.get(f"/api/disasters/{filed.zone_id}/exposure").text
    assert all(code in exposure for code in filed.codes[1:]), "the scan saw the (open) reports themselves"


@pytest.mark.parametrize("z", [10, 14, 17])
def test_vector_tiles_carry_no_reporter(client: httpx.Client, filed: Filed, z: int) -> None:
    tile = TMS.tile(*CITADEL, z)
    response = client.get(f"/tiles/citizen_reports/{z}/{tile.x}/{tile.y}.mvt")
    assert response.status_code == 200
    decoded = mapbox_vector_tile.decode(response.content)
    features = decoded["citizen_reports"]["features"]
    assert features, "the tile holds the reports"
    assert leaks(str(decoded), filed.secrets) == [] and leaks(response.content.decode("latin-1"), filed.secrets) == []
    if z == 17:
        assert {f["properties"].get("code") for f in features} & set(filed.codes)


def test_staff_see_reporters_only_on_reports_they_handle(client: httpx.Client, filed: Filed,
                                                         staff_headers: Callable[..., dict]) -> None:  # fmt: skip
    web, by_phone, by_open311 = filed.codes
    ward = staff_headers("ward_officer", unit=PHU_XUAN)
    roads = staff_headers("department_officer", department="so_xay_dung")
    for code, handler in ((web, ward), (by_open311, ward), (by_phone, roads)):
        reporter = client.get(f"/api/staff/reports/{code}", headers=handler).json()["reporter"]
        assert reporter is not None and reporter["phone"] == filed.secrets[1]
    trail = client.get(f"/api/staff/reports/{web}", headers=ward).json()["events"]
    assert {e["note"] for e in trail} >= {filed.secrets[4], filed.secrets[5], filed.result}  # staff keep the notes
    for who in (
        staff_headers("operator"),
        staff_headers("city_leader"),
        staff_headers("unit_head", department="hepco"),
    ):
        for code in filed.codes:
            response = client.get(f"/api/staff/reports/{code}", headers=who)
            assert response.status_code in (200, 403)
            assert leaks(response.text, filed.secrets) == []
    # The ward's officers read the department's report? No: it is not theirs.
    assert client.get(f"/api/staff/reports/{by_phone}", headers=ward).status_code == 403
    queue = client.get("/api/staff/queue", params={"limit": 1000}, headers=ward)
    assert queue.status_code == 200 and leaks(queue.text, filed.secrets) == []


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_pygeoapi_is_read_only(client: httpx.Client, filed: Filed, db: psycopg.Connection, method: str) -> None:
    before = db.execute("SELECT count(*), max(updated_at) FROM citizen_reports").fetchone()
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(CITADEL)},
               "properties": {"category": "garbage", "description": "chèn qua OGC API"}}  # fmt: skip
    for path in ("/ogc/collections/citizen_reports/items", f"/ogc/collections/citizen_reports/items/{filed.codes[0]}",
                 "/ogc/collections/admin_units/items/1"):  # fmt: skip
        response = client.request(method, path, json=feature, headers={"Content-Type": "application/geo+json"})
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
    assert db.execute("SELECT count(*), max(updated_at) FROM citizen_reports").fetchone() == before


def test_the_filing_browser_rates_with_its_httponly_cookie(server: str, loaded: Settings) -> None:
    """The portal need not keep follow tokens where scripts read them (localStorage): the intake sets an
    HttpOnly cookie scoped to the report, and the rating reads it when the body carries no token."""
    with httpx.Client(base_url=server, timeout=60) as browser, httpx.Client(base_url=server, timeout=60) as other:
        filed = browser.post("/api/reports", json={"category": "garbage", "lon": CITADEL[0], "lat": CITADEL[1],
                                                   "description": "Rác chất đống bên đường (cookie)"})  # fmt: skip
        assert filed.status_code == 201, filed.text
        code = filed.json()["code"]
        cookie = filed.headers["set-cookie"]
        assert f"huegis_follow_{code}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert f"Path=/api/reports/{code}" in cookie
        officer = auth_helpers.staff_headers(loaded, "ward_officer", unit=PHU_XUAN)
        for body in ({"action": "assign"}, {"action": "start"}, {"action": "resolve", "note": "Đã dọn"}):
            assert browser.post(f"/api/reports/{code}/actions", json=body, headers=officer).status_code == 200
        refused = other.post(f"/api/reports/{code}/rating", json={"rating": 5})
        assert refused.status_code == 403 and "follow_token" in refused.json()["detail"]
        rated = browser.post(f"/api/reports/{code}/rating", json={"rating": 5})
        assert rated.status_code == 200 and rated.json()["status"] == "closed", rated.text
