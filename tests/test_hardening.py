"""Hardened HTTP, one test per finding of issue 15 (each failed on the code before the fix):

4. staff routes authenticate before they read a body, and bodies have per-route caps;
5. hostile input (deep JSON, lone surrogates, a decompression bomb, a zone with heights) is a 400, not a 5xx;
6. report photos keep no metadata segment (the JPEG comment survived re-encoding);
8. links in cacheable documents come from HUEGIS_PUBLIC_URL, not from the Host header;
9. no version banners, security headers on every response (photos included), a public /healthz
   without build strings, and an access log without api_key values.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from app_server import free_port
from disaster_fixtures import SQUARE, zone_body
from PIL import Image

from geo.settings import PROJECT_DIR, Settings

CITADEL = (107.5795, 16.4680)
REPORT = {"category": "garbage", "description": "Rác thải tồn đọng nhiều ngày ở góc đường", "lon": CITADEL[0],
          "lat": CITADEL[1]}  # fmt: skip
MiB = 1024 * 1024


def count_reports(db: psycopg.Connection) -> int:
    row = db.execute(
        "SELECT (SELECT count(*) FROM citizen_reports) + (SELECT count(*) FROM report_events) "
        "+ (SELECT count(*) FROM hotline_calls) + (SELECT count(*) FROM disaster_zones)"
    ).fetchone()
    assert row is not None
    return row[0]


def raw_request(server: str, head: str, wait_s: float = 10) -> bytes:
    """Send request headers only (no body) on a raw socket; what the server answers within ``wait_s``."""
    url = urlsplit(server)
    with socket.create_connection((url.hostname, url.port), timeout=wait_s) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass
        return answer


def _length(answer: bytes) -> int:
    head = answer.partition(b"\r\n\r\n")[0].lower()
    for line in head.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


# --- 4. authentication before the body; per-route body caps --------------------------------------


@pytest.mark.parametrize("path", ["/api/disasters", "/api/hotspots/backtest", "/api/reports/HUE-AAAA/actions",
                                  "/ogc/collections/schools/items"])  # fmt: skip
def test_an_anonymous_staff_request_is_refused_before_its_body_is_read(server: str, path: str) -> None:
    """A 14 MiB body announced and never sent: the answer (401) comes at once, without waiting for it."""
    answer = raw_request(server, f"POST {path} HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n"
                                 f"Content-Length: {14 * MiB}\n")  # fmt: skip
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"www-authenticate: Bearer" in answer.lower().replace(b"bearer", b"Bearer")


def test_a_forged_token_is_refused_before_the_body_too(server: str) -> None:
    answer = raw_request(server, f"POST /api/disasters HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Bearer x.y.z\n"
                                 f"Content-Type: application/json\nContent-Length: {14 * MiB}\n")  # fmt: skip
    assert answer.startswith(b"HTTP/1.1 401") and b"invalid access token" in answer, answer[:300]


def test_json_bodies_have_a_small_cap_and_zones_a_larger_one(client: httpx.Client,
                                                             staff_headers: Callable[..., dict]) -> None:  # fmt: skip
    officer = staff_headers("ward_officer", unit="19753")
    note = {"action": "assign", "note": "x" * (300 * 1024)}
    response = client.post("/api/reports/HUE-AAAA/actions", json=note, headers=officer)
    assert response.status_code == 413 and "256 KiB" in response.json()["detail"], response.text
    # A zone polygon may be larger: 1 MiB of JSON is read (and refused for its geometry, not its size).
    emergency = staff_headers("emergency_officer")
    ring = [[107.5 + i * 1e-7, 16.4] for i in range(60_000)]
    body = zone_body(SQUARE, geometry={"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    assert len(json.dumps(body)) > MiB
    response = client.post("/api/disasters", json=body, headers=emergency)
    assert response.status_code == 400 and "geometry" in response.json()["detail"], response.text


# --- 5. hostile input is a 400 naming the problem, never a 5xx, nothing written -------------------


def test_json_nested_100000_deep_is_a_400(client: httpx.Client, db: psycopg.Connection) -> None:
    before = count_reports(db)
    deep = b'{"category": "garbage", "description": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post("/api/reports", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "nested" in response.json()["detail"], response.text
    brackets_in_text = {**REPORT, "description": "[[[[{{{{" * 100 + " rác thải ở góc đường"}
    assert client.post("/api/reports", json=brackets_in_text).status_code == 201  # brackets in strings are text
    assert count_reports(db) == before + 2  # the report and its intake event


@pytest.mark.parametrize("path", ["/api/reports", "/open311/v2/requests.json", "/api/auth/token"])
def test_a_number_of_thousands_of_digits_is_a_400(client: httpx.Client, db: psycopg.Connection, path: str) -> None:
    """Python refuses to convert integers of over 4,300 digits: bad JSON, not a 500."""
    before = count_reports(db)
    body = b'{"category": ' + b"9" * 4400 + b"}"
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.text, response.text  # Open311: a list
    assert count_reports(db) == before


LONE = '"Rác thải \\ud800 tồn đọng ở góc đường"'


@pytest.mark.parametrize("route", ["reports", "actions", "hotline_calls", "hotline_reports"])
def test_a_lone_surrogate_is_a_400(client: httpx.Client, db: psycopg.Connection, staff_headers: Callable[..., dict],
                                   route: str) -> None:  # fmt: skip
    code = client.post("/api/reports", json=REPORT).json()["code"]
    operator = staff_headers("operator")
    path, fields, headers = {
        "reports": ("/api/reports", {k: json.dumps(v) for k, v in REPORT.items() if k != "description"}, {}),
        "actions": (f"/api/reports/{code}/actions", {"action": '"escalate"'}, operator),
        "hotline_calls": ("/api/hotline/calls", {"direction": '"in"', "duration_s": "30"}, operator),
        "hotline_reports": ("/api/hotline/reports", {**{k: json.dumps(v) for k, v in REPORT.items()},
                                                     "direction": '"in"', "duration_s": "30"}, operator),
    }[route]  # fmt: skip
    field = "description" if route in ("reports", "hotline_reports") else "note"
    raw = "{" + ", ".join(f'"{k}": {v}' for k, v in {**fields, field: LONE}.items()) + "}"
    before = count_reports(db)
    response = client.post(path, content=raw.encode(), headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and "surrogate" in response.json()["detail"], response.text
    assert field in response.json()["detail"]
    assert count_reports(db) == before
    paired = raw.replace("\\ud800", "\\ud83c\\udf0a")  # a valid pair (🌊) is text
    assert client.post(path, content=paired.encode(),
                       headers={**headers, "Content-Type": "application/json"}).status_code in (200, 201)  # fmt: skip


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 12_000))
            + chunk(b"IEND", b""))  # fmt: skip


def test_a_decompression_bomb_photo_is_a_400(client: httpx.Client, db: psycopg.Connection) -> None:
    bomb = png_declaring(50_000, 50_000)
    assert len(bomb) < 13_000
    before = count_reports(db)
    response = client.post("/api/reports", data={k: str(v) for k, v in REPORT.items()},
                           files=[("photos", ("bomb.png", bomb, "image/png"))])  # fmt: skip
    detail = response.json()["detail"]
    assert response.status_code == 400 and "decompression bomb" in detail and "2500000000" in detail, response.text
    assert count_reports(db) == before


def test_a_zone_with_heights_is_a_400(client: httpx.Client, db: psycopg.Connection,
                                      staff_headers: Callable[..., dict]) -> None:  # fmt: skip
    ring = [[lon, lat, 12.5] for lon, lat in SQUARE]
    before = count_reports(db)
    body = zone_body(SQUARE, geometry={"type": "Polygon", "coordinates": [ring]})
    response = client.post("/api/disasters", json=body, headers=staff_headers("emergency_officer"))
    assert response.status_code == 400 and "height" in response.json()["detail"], response.text
    assert count_reports(db) == before


# --- 6. photos keep no metadata segment --------------------------------------------------------------


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG's segments before its image data."""
    markers, at = [], 2
    while at < len(data) and data[at] == 0xFF and data[at + 1] != 0xDA:
        markers.append(data[at + 1])
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return markers


def test_photos_lose_every_metadata_segment(client: httpx.Client) -> None:
    from PIL import ImageCms

    image = Image.new("RGB", (320, 240), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010E] = "Nhà ông Quý, 0909 123 456"  # ImageDescription
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>Quy 0909</rdf:Description></x:xmpmeta>'
    original = io.BytesIO()
    image.save(original, format="JPEG", exif=exif, comment=b"call Mr Quy 0909 123 456", icc_profile=srgb, xmp=xmp)
    assert {0xE1, 0xE2, 0xFE} <= set(jpeg_segments(original.getvalue()))  # EXIF/XMP, ICC, comment
    response = client.post("/api/reports", data={k: str(v) for k, v in REPORT.items()},
                           files=[("photos", ("p.jpg", original.getvalue(), "image/jpeg"))])  # fmt: skip
    assert response.status_code == 201, response.text
    photo = client.get(f"/api/reports/{response.json()['code']}/photos/1")
    assert photo.status_code == 200
    assert set(jpeg_segments(photo.content)) <= {0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDD}, jpeg_segments(photo.content)
    assert b"0909" not in photo.content and b"Quy" not in photo.content
    assert Image.open(io.BytesIO(photo.content)).size == (320, 240)


# --- 8. links from HUEGIS_PUBLIC_URL, never from the Host header ------------------------------------


@pytest.mark.parametrize("path", ["/tiles/basemap/tilejson.json", "/tiles/basemap/style.json", "/tiles",
                                  "/tiles/schools/tilejson.json", "/tiles/collections"])  # fmt: skip
def test_a_forged_host_does_not_reach_documents(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 200, response.text
    assert "evil.example" not in response.text
    assert str(client.base_url).rstrip("/") in response.text


@pytest.mark.parametrize("path", ["/ogc", "/portal/", "/dashboard/"])
def test_a_forged_host_is_not_sent_back_in_redirects(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert 300 <= response.status_code < 400, response.text
    location = response.headers["location"]  # absolute (QGIS follows no relative redirect), on HUEGIS_PUBLIC_URL
    assert "evil.example" not in location and location.startswith(str(client.base_url).rstrip("/")), location


def test_links_follow_the_port_when_no_public_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUEGIS_PUBLIC_URL", raising=False)
    assert Settings(port=8451).public_url == "http://127.0.0.1:8451"
    assert Settings(host="0.0.0.0", port=9000).public_url == "http://127.0.0.1:9000"
    assert Settings(port=8451, public_url="https://gis.hue.gov.vn").public_url == "https://gis.hue.gov.vn"


# --- 9. banners, headers, /healthz, the access log ---------------------------------------------------


def photo_path(client: httpx.Client) -> str:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    response = client.post("/api/reports", data={k: str(v) for k, v in REPORT.items()},
                           files=[("photos", ("p.png", out.getvalue(), "image/png"))])  # fmt: skip
    return f"/api/reports/{response.json()['code']}/photos/1"


def test_every_kind_of_response_carries_the_security_headers_and_no_banner(client: httpx.Client) -> None:
    paths = ["/", "/portal", "/healthz", "/api/report-categories", "/ogc", "/ogc/collections/schools?f=json",
             "/ogc/collections/schools/items?f=html&limit=1", "/tiles/schools/12/3273/1866.mvt", "/docs",
             "/static/huegis.css", "/feeds/cap.atom", "/api/reports/HUE-NONE", photo_path(client)]  # fmt: skip
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, path
        headers = response.headers
        assert "server" not in headers and "x-powered-by" not in headers, (path, dict(headers))
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        if headers.get("content-type", "").startswith("text/html"):
            assert "script-src 'self' 'nonce-" in headers["content-security-policy"], path


def test_an_unhandled_error_answers_500_with_the_security_headers(loaded: Settings) -> None:
    """Starlette's outermost ServerErrorMiddleware answered a bug's 500 without them (an outside probe)."""
    from fastapi import APIRouter
    from starlette.testclient import TestClient

    from api.main import create_app

    app = create_app(loaded)
    boom = APIRouter()

    @boom.get("/boom")  # only in this test's app
    async def raise_a_bug() -> None:
        raise RuntimeError("a bug")

    app.include_router(boom)
    with pytest.raises(RuntimeError, match="a bug"):  # still raised, for the server's error log
        TestClient(app).get("/boom")
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500 and response.text == "Internal Server Error"
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_each_page_gets_its_own_nonce(client: httpx.Client) -> None:
    nonces = {client.get("/docs").headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
              for _ in range(3)}  # fmt: skip
    assert len(nonces) == 3
    docs = client.get("/docs")
    nonce = docs.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in docs.text


def test_healthz_says_ok_publicly_and_details_to_staff(client: httpx.Client,
                                                       staff_headers: Callable[..., dict]) -> None:  # fmt: skip
    public = client.get("/healthz")
    assert public.status_code == 200 and public.json() == {"status": "ok", "database": "ok"}
    assert "PostgreSQL" not in public.text and "POSTGIS" not in public.text.upper()
    assert client.get("/healthz", headers={"Authorization": "Bearer forged"}).json()["database"] == "ok"
    staff = client.get("/healthz", headers=staff_headers("city_leader")).json()
    assert staff["database"]["postgresql"].startswith("PostgreSQL") and staff["database"]["postgis"].startswith("3.")


@pytest.fixture(scope="module")
def served_by_the_cli(loaded: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`huegis serve` itself (its uvicorn options, access log on) on the test database."""
    port = free_port()
    log = tmp_path_factory.mktemp("cli-serve") / "serve.log"
    env = {**os.environ, "HUEGIS_DB_NAME": loaded.db_name, "HUEGIS_PYGEOAPI_OPENAPI": str(loaded.pygeoapi_openapi),
           "HUEGIS_PORT": str(port), "HUEGIS_PUBLIC_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--no-prepare"], cwd=PROJECT_DIR,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_cli_server_sends_no_banner_and_logs_no_api_key(served_by_the_cli: tuple[str, Path]) -> None:
    url, log = served_by_the_cli
    secret = "hgk_do-not-log-me-0123456789"
    response = httpx.get(f"{url}/open311/v2/requests.json", params={"api_key": secret, "service_code": "garbage"})
    assert response.status_code == 200 and "server" not in response.headers
    time.sleep(0.5)  # the access log line is written after the response
    text = log.read_text()
    assert "/open311/v2/requests.json?" in text and "service_code=garbage" in text, text[-2000:]
    assert secret not in text and "api_key=REDACTED" in text
