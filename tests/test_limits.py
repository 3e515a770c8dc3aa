"""Abuse limits over HTTP: rate limits per IP and per device/account (429 + Retry-After, nothing written),
X-Forwarded-For only from trusted proxies, the request body cap (413), CORS, and the statement timeout (503).

The suite's main server runs without rate limits; these tests serve the same test database with
tight limits from their own uvicorn processes.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import auth_helpers
import httpx
import psycopg
import pytest
from app_server import app_server

from api.limits import client_address, parse_rates
from geo.settings import Settings

CITADEL = (107.5795, 16.4680)  # Phường Phú Xuân
ORIGIN = "https://portal.hue.gov.vn"
TIGHT = {
    "HUEGIS_RATE_LIMIT_INTAKE": "3/minute",
    "HUEGIS_RATE_LIMIT_DEVICE": "2/minute",
    "HUEGIS_RATE_LIMIT_LOGIN": "12/minute",
    "HUEGIS_RATE_LIMIT_LOGIN_FAILURES": "3/minute",
    "HUEGIS_RATE_LIMIT_LOGIN_USER": "6/minute",
    "HUEGIS_RATE_LIMIT_LOGIN_BACKOFF": "1/minute",
    "HUEGIS_RATE_LIMIT_EXPENSIVE": "2/minute",
    # Only 127.0.0.1 is a proxy: clients connecting from 127.0.0.2 are "the internet".
    "HUEGIS_TRUSTED_PROXIES": '["127.0.0.1/32"]',
    "HUEGIS_MAX_BODY_BYTES": str(64 * 1024),
    "HUEGIS_MAX_JSON_BYTES": str(64 * 1024),
    "HUEGIS_CORS_ORIGINS": json.dumps([ORIGIN]),
}
_addresses = (f"203.0.113.{n}" for n in itertools.count(1))  # TEST-NET-3: one fresh "client" per use


@contextmanager
def serve(loaded: Settings, env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """The platform on the test database in its own uvicorn process, with ``env`` on top."""
    full_env = {
        **os.environ,
        "HUEGIS_DB_NAME": loaded.db_name,
        "HUEGIS_PYGEOAPI_OPENAPI": str(loaded.pygeoapi_openapi),
        **env,
    }
    # /openapi.json needs no database: the slow-query server cannot answer much else.
    with app_server(full_env, log_dir / "uvicorn.log", ready="/openapi.json") as app:
        yield app.url


@pytest.fixture(scope="module")
def tight(loaded: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(loaded, TIGHT, tmp_path_factory.mktemp("tight")) as base:
        yield base


@pytest.fixture
def proxy(tight: str) -> Iterator[httpx.Client]:
    """A client behind the trusted proxy (127.0.0.1): its X-Forwarded-For is believed."""
    with httpx.Client(base_url=tight, timeout=30) as http:
        yield http


@pytest.fixture
def outsider(tight: str) -> Iterator[httpx.Client]:
    """A client connecting from 127.0.0.2, not a trusted proxy: its X-Forwarded-For is ignored."""
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=tight, timeout=30, transport=transport) as http:
        yield http


def report(description: str = "Đèn đường hỏng cả dãy phố từ tối qua") -> dict:
    return {"category": "street_lighting", "description": description, "lon": CITADEL[0], "lat": CITADEL[1]}


def count_reports(db: psycopg.Connection) -> int:
    row = db.execute("SELECT count(*) FROM citizen_reports").fetchone()
    assert row is not None
    return row[0]


def assert_limited(response: httpx.Response, who: str, limit: str) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    detail = response.json()["detail"]
    assert who in detail and limit in detail, detail


# --- pure functions -------------------------------------------------------------------------


def test_rates_parse_and_zero_disables() -> None:
    assert [(r.amount, r.get_expiry()) for r in parse_rates("20/minute;200/hour")] == [(20, 60), (200, 3600)]
    assert parse_rates("0") == parse_rates("") == parse_rates(None) == []


def test_defaults_are_on_in_settings() -> None:
    fields = Settings.model_fields
    assert parse_rates(fields["rate_limit_intake"].default)[0].amount == 20
    assert parse_rates(fields["rate_limit_device"].default)[0].amount == 10
    assert parse_rates(fields["rate_limit_login"].default)
    assert fields["cors_origins"].default == [] and fields["trusted_proxies"].default == []
    default = Settings.model_construct(max_body_bytes=None, photo_max_count=3, photo_max_bytes=8 * 2**20)
    assert default.body_limit_bytes == 25 * 2**20  # three photos at the photo limit, plus 1 MiB of form


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("198.51.100.7", "1.2.3.4", "198.51.100.7"),  # untrusted peer: the header is the client's own claim
        ("10.0.0.2", "1.2.3.4", "1.2.3.4"),  # the proxy saw 1.2.3.4
        ("10.0.0.2", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # 6.6.6.6 was forged by the client: only the proxy's hop counts
        ("10.0.0.2", "1.2.3.4, 10.0.0.9", "1.2.3.4"),  # two trusted proxies in a row
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),  # garbage: trust nothing in it
        ("10.0.0.2", "1.2.3.4, garbage, 5.6.7.8", "5.6.7.8"),
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "2001:db8::1", "2001:db8::1"),
        (None, "1.2.3.4", "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: str | None, client: str) -> None:
    import ipaddress

    assert client_address(peer, forwarded, [ipaddress.ip_network("10.0.0.0/8")]) == client


# --- rate limits ----------------------------------------------------------------------------


def test_intake_is_limited_per_ip_and_spoofed_forwarding_does_not_help(
    outsider: httpx.Client, db: psycopg.Connection
) -> None:
    for _ in range(3):  # a new device and a new forged X-Forwarded-For each time: still one address
        headers = {"X-Device-Id": uuid.uuid4().hex, "X-Forwarded-For": next(_addresses)}
        assert outsider.post("/api/reports", json=report(), headers=headers).status_code == 201
    before = count_reports(db)
    headers = {"X-Device-Id": uuid.uuid4().hex, "X-Forwarded-For": next(_addresses)}
    response = outsider.post("/api/reports", json=report(), headers=headers)
    assert_limited(response, "from this address", "3 per minute")
    assert count_reports(db) == before  # the refused report was not written


def test_intake_is_limited_per_device_across_addresses(proxy: httpx.Client, db: psycopg.Connection) -> None:
    device = {"X-Device-Id": uuid.uuid4().hex}
    for _ in range(2):
        response = proxy.post("/api/reports", json=report(), headers={**device, "X-Forwarded-For": next(_addresses)})
        assert response.status_code == 201, response.text
    before = count_reports(db)
    response = proxy.post("/api/reports", json=report(), headers={**device, "X-Forwarded-For": next(_addresses)})
    assert_limited(response, "from this device", "2 per minute")
    assert count_reports(db) == before
    # Another device from another address is not affected.
    other = {"X-Device-Id": uuid.uuid4().hex, "X-Forwarded-For": next(_addresses)}
    assert proxy.post("/api/reports", json=report(), headers=other).status_code == 201


def test_refused_submissions_do_not_use_up_the_other_limit(proxy: httpx.Client) -> None:
    """A request refused for its device adds nothing to its address's count (test, then hit)."""
    address = next(_addresses)
    device = {"X-Device-Id": uuid.uuid4().hex}
    for _ in range(2):
        proxy.post("/api/reports", json=report(), headers={**device, "X-Forwarded-For": next(_addresses)})
    for _ in range(5):
        response = proxy.post("/api/reports", json=report(), headers={**device, "X-Forwarded-For": address})
        assert response.status_code == 429
    response = proxy.post("/api/reports", json=report(), headers={"X-Forwarded-For": address})
    assert response.status_code == 201, response.text


def post_open311(http: httpx.Client, settings: Settings, fmt: str, address: str, **fields: str) -> httpx.Response:
    data = {"api_key": settings.open311_api_keys[0], "service_code": "street_lighting", "lat": str(CITADEL[1]),
            "long": str(CITADEL[0]), "description": "Đèn đường không sáng ở ngõ nhỏ", **fields}  # fmt: skip
    return http.post(f"/open311/v2/requests.{fmt}", data=data, headers={"X-Forwarded-For": address})


def test_open311_post_is_limited_per_device_in_open311_errors(
    proxy: httpx.Client, loaded: Settings, db: psycopg.Connection
) -> None:
    device = uuid.uuid4().hex
    for _ in range(2):
        assert post_open311(proxy, loaded, "json", next(_addresses), device_id=device).status_code == 200
    before = count_reports(db)
    response = post_open311(proxy, loaded, "json", next(_addresses), device_id=device)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    [error] = response.json()
    assert error["code"] == 429 and "this device_id" in error["description"] and "2 per minute" in error["description"]
    response = post_open311(proxy, loaded, "xml", next(_addresses), device_id=device)
    assert response.status_code == 429
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and root.findtext("error/code") == "429"
    assert count_reports(db) == before


def test_open311_post_is_limited_per_account_and_per_ip(proxy: httpx.Client, loaded: Settings) -> None:
    account = uuid.uuid4().hex
    for _ in range(2):
        assert post_open311(proxy, loaded, "json", next(_addresses), account_id=account).status_code == 200
    response = post_open311(proxy, loaded, "json", next(_addresses), account_id=account)
    assert response.status_code == 429 and "this account_id" in response.json()[0]["description"]
    # The web form and Open311 share one count per address: 3 submissions in all.
    address = next(_addresses)
    assert proxy.post("/api/reports", json=report(), headers={"X-Forwarded-For": address}).status_code == 201
    for _ in range(2):
        assert post_open311(proxy, loaded, "json", address, device_id=uuid.uuid4().hex).status_code == 200
    response = post_open311(proxy, loaded, "json", address, device_id=uuid.uuid4().hex)
    assert response.status_code == 429 and "this address" in response.json()[0]["description"]


def sign_in(http: httpx.Client, user: str, password: str, address: str) -> httpx.Response:
    return http.post("/api/auth/token", data={"username": user, "password": password},
                     headers={"X-Forwarded-For": address})  # fmt: skip


def test_wrong_passwords_cannot_lock_an_officer_out(proxy: httpx.Client, loaded: Settings) -> None:
    """Finding 7: 10 wrong passwords from one address made the correct one fail from every address (429)."""
    user = auth_helpers.ensure_account(loaded, "city_leader", username=f"locked.{uuid.uuid4().hex[:8]}")
    attacker = next(_addresses)
    answers = [sign_in(proxy, user, "wrong password!", attacker).status_code for _ in range(10)]
    assert answers[:3] == [401] * 3 and set(answers[3:]) == {429}, answers  # the attacker's address is slowed
    response = sign_in(proxy, user, auth_helpers.PASSWORD, attacker)
    assert_limited(response, "this address for this user name", "3 per minute")  # even the right password there
    officer = sign_in(proxy, user, auth_helpers.PASSWORD, next(_addresses))
    assert officer.status_code == 200, officer.text  # the officer, from elsewhere, signs in


def test_guessing_from_many_addresses_backs_off_per_user_name(proxy: httpx.Client, loaded: Settings) -> None:
    user = auth_helpers.ensure_account(loaded, "city_leader", username=f"guessed.{uuid.uuid4().hex[:8]}")
    botnet = [next(_addresses) for _ in range(4)]
    for address in botnet[:3]:  # 2 failures each: 6 for the name, the per-name threshold
        for _ in range(2):
            assert sign_in(proxy, user, "wrong password!", address).status_code == 401
    # The name is in backoff: an address that has failed on it may not try again this minute ...
    assert_limited(sign_in(proxy, user, "wrong password!", botnet[0]), "this address for this user name",
                   "1 per minute")  # fmt: skip
    # ... a new address gets one attempt: a wrong guess counts, then it is refused too.
    assert sign_in(proxy, user, "wrong password!", botnet[3]).status_code == 401
    assert sign_in(proxy, user, "wrong password!", botnet[3]).status_code == 429
    # The officer from an address that has not failed still signs in.
    assert sign_in(proxy, user, auth_helpers.PASSWORD, next(_addresses)).status_code == 200


def test_sign_ins_are_limited_per_address(outsider: httpx.Client) -> None:
    """One address trying many user names (password spraying) is stopped by the per-address rate."""
    user = f"nobody-{uuid.uuid4().hex[:8]}"
    for n in range(12):
        outsider.post("/api/auth/token", data={"username": f"{user}-{n}", "password": "wrong"})
    response = outsider.post("/api/auth/token", data={"username": f"{user}-x", "password": "wrong"})
    assert_limited(response, "this address", "12 per minute")


GRID = "/api/hotspots/grid?start=2025-03-01&end=2025-03-08"
EXPENSIVE = ("/api/layers/dams/export?format=geojson", "/api/bottlenecks?window_days=8", GRID)


def test_requests_computed_on_demand_are_limited_per_address(proxy: httpx.Client) -> None:
    for path in EXPENSIVE:
        address = {"X-Forwarded-For": next(_addresses)}
        for _ in range(2):
            assert proxy.get(GRID, headers=address).status_code == 200
        response = proxy.get(path, headers=address)
        assert_limited(response, "from this address", "2 per minute")
        assert "sign in" in response.json()["detail"]
    assert proxy.get(GRID, headers={"X-Forwarded-For": next(_addresses)}).status_code == 200  # others still may


def test_staff_are_not_counted_a_bad_credential_is(proxy: httpx.Client, staff_headers: Callable[..., dict]) -> None:
    staff = {**staff_headers("city_leader"), "X-Forwarded-For": next(_addresses)}
    for _ in range(4):
        assert proxy.get(GRID, headers=staff).status_code == 200
    forged = {"Authorization": "Bearer not-a-token", "X-Forwarded-For": next(_addresses)}
    assert [proxy.get(GRID, headers=forged).status_code for _ in range(3)] == [200, 200, 429]


def test_public_reads_are_not_rate_limited(outsider: httpx.Client) -> None:
    for _ in range(10):
        assert outsider.get("/api/report-categories").status_code == 200


# --- request body cap -----------------------------------------------------------------------


def test_body_over_the_cap_is_refused_by_content_length(proxy: httpx.Client, db: psycopg.Connection) -> None:
    before = count_reports(db)
    big = report("Ổ gà rất sâu " * 10_000)  # ~150 KB of JSON: over the 64 KiB cap
    response = proxy.post("/api/reports", json=big, headers={"X-Forwarded-For": next(_addresses)})
    assert response.status_code == 413 and "64 KiB" in response.json()["detail"]
    assert count_reports(db) == before


def test_chunked_body_over_the_cap_is_refused_while_streaming(proxy: httpx.Client, db: psycopg.Connection) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding chunked
        nonlocal sent
        yield b'{"category": "garbage", "lon": 107.5795, "lat": 16.468, "description": "'
        for _ in range(64):
            sent += 1
            yield b"x" * 8192
        yield b'"}'

    before = count_reports(db)
    response = proxy.post("/api/reports", content=chunks(), headers={"Content-Type": "application/json",
                                                                     "X-Forwarded-For": next(_addresses)})  # fmt: skip
    assert response.status_code == 413 and "larger than the limit" in response.json()["detail"]
    assert count_reports(db) == before


def test_open311_body_over_the_cap_is_an_open311_error(proxy: httpx.Client, loaded: Settings) -> None:
    response = post_open311(proxy, loaded, "json", next(_addresses), description="x" * 70_000)
    assert response.status_code == 413
    assert response.json()[0]["code"] == 413 and "64 KiB" in response.json()[0]["description"]


def test_body_under_the_cap_passes(proxy: httpx.Client) -> None:
    response = proxy.post("/api/reports", json=report("Cây đổ chắn ngang đường " * 100),
                          headers={"X-Forwarded-For": next(_addresses)})  # fmt: skip
    assert response.status_code == 201, response.text


# --- CORS -----------------------------------------------------------------------------------


def test_cors_allows_the_configured_origin_only(proxy: httpx.Client) -> None:
    allowed = proxy.get("/api/report-categories", headers={"Origin": ORIGIN})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ORIGIN
    denied = proxy.get("/api/report-categories", headers={"Origin": "https://evil.example"})
    assert denied.status_code == 200 and "access-control-allow-origin" not in denied.headers


def test_cors_preflight(proxy: httpx.Client) -> None:
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-device-id"}
    allowed = proxy.options("/api/reports", headers={"Origin": ORIGIN, **ask})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "x-device-id" in allowed.headers["access-control-allow-headers"].lower()
    denied = proxy.options("/api/reports", headers={"Origin": "https://evil.example", **ask})
    assert denied.status_code == 400 and "access-control-allow-origin" not in denied.headers


def test_no_cors_headers_without_configured_origins(client: httpx.Client) -> None:
    response = client.get("/api/report-categories", headers={"Origin": ORIGIN})
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
    preflight = client.options("/api/reports", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


# --- statement timeout ----------------------------------------------------------------------


def test_cancelled_heavy_query_is_a_503_naming_the_timeout(loaded: Settings, tmp_path: Path) -> None:
    slow = serve(loaded, {"HUEGIS_STATEMENT_TIMEOUT_MS": "1"}, tmp_path)
    with slow as base, httpx.Client(base_url=base, timeout=30) as http:
        response = http.get("/api/coverage", params={"radius_m": 50_000})
        assert response.status_code == 503, response.text
        assert "statement_timeout" in response.json()["detail"] and "0.001 s" in response.json()["detail"]
        assert response.headers["Retry-After"]
        response = http.get("/api/kpis", params={"start": "2019-01-01", "end": "2030-01-01", "group_by": "unit"})
        assert response.status_code == 503 and "statement_timeout" in response.json()["detail"]
