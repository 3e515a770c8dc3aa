"""The Content-Security-Policy in a real browser: every HTML page works under it (no violation), and a
zone headline made of markup stays text on pygeoapi's item page (finding 2: stored XSS).

Headless Chromium (Debian's, driven by PyPI playwright) reports each CSP violation as a console error
("Refused to ..."); the pages must raise none, and their maps and Swagger UI must still draw.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest
from disaster_fixtures import SQUARE, ZoneMaker, zone_body
from playwright.sync_api import ConsoleMessage, Page

# (path, a selector that appears once the page's scripts have run)
PAGES = [
    ("/", "body"),
    ("/portal", "body[data-map-ready=true]"),
    ("/dashboard", "body"),
    ("/emergency", "body"),
    ("/maps", "body"),
    ("/maps/overview", ".leaflet-container"),
    ("/docs", "#swagger-ui .information-container"),
    ("/ogc", "body"),
    ("/ogc/collections", "body"),
    ("/ogc/collections/schools", "#collection-map .leaflet-tile-container canvas"),
    ("/ogc/collections/schools/items?f=html&limit=20", "#items-map .leaflet-marker-icon, #items-map .marker-cluster"),
    ("/ogc/collections/schools/items/{school}?f=html", "#items-map .leaflet-tile-container canvas"),
    ("/ogc/openapi?f=html", "#swagger-ui .information-container"),
    ("/ogc/collections/schools/queryables?f=html", "body"),
]
# MapLibre's worker runs under the policy of its own script: its tile fetches must pass too.
MAP_DRAWN = "() => window.portal && window.portal.map.loaded() && window.portal.map.queryRenderedFeatures().length > 0"
PAYLOAD = '</script><img src=x onerror="window.pwned=1"><script>window.pwned=2</script>\'"&'


def violations(messages: list[ConsoleMessage]) -> list[str]:
    return [m.text for m in messages if m.type == "error" and "Content Security Policy" in m.text]


@pytest.fixture
def console(page: tuple[Page, object]) -> Iterator[list[ConsoleMessage]]:
    messages: list[ConsoleMessage] = []
    page[0].on("console", lambda message: messages.append(message))
    page[0].on("worker", lambda worker: worker.on("console", lambda message: messages.append(message)))
    yield messages


@pytest.mark.parametrize(("path", "ready"), PAGES, ids=[p for p, _ in PAGES])
def test_pages_work_under_the_csp(page: tuple[Page, object], console: list[ConsoleMessage], server: str, path: str,
                                  ready: str) -> None:  # fmt: skip
    tab, _ = page
    if "{school}" in path:
        school = httpx.get(f"{server}/ogc/collections/schools/items", params={"f": "json", "limit": 1}).json()
        path = path.format(school=school["features"][0]["id"])
    response = tab.goto(f"{server}{path}")
    assert response is not None and response.status == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]  # no page is exempt
    tab.wait_for_selector(ready, state="attached", timeout=30_000)
    if path == "/portal":
        tab.wait_for_function(MAP_DRAWN, timeout=30_000)
    tab.wait_for_load_state("networkidle")
    assert violations(console) == []


@pytest.fixture
def hostile_zone(client: httpx.Client, staff: dict[str, str], db: psycopg.Connection) -> Iterator[int]:
    body = zone_body(SQUARE, headline_vi=PAYLOAD, headline_en=PAYLOAD, instruction_vi=PAYLOAD)
    response = client.post("/api/disasters", json=body, headers=staff)
    assert response.status_code == 201, response.text
    maker = ZoneMaker(client, staff, db)
    maker.ids.append(response.json()["id"])
    yield response.json()["id"]
    maker.cleanup()


def test_markup_in_a_zone_stays_text_on_pygeoapi_pages(page: tuple[Page, object], console: list[ConsoleMessage],
                                                       server: str, hostile_zone: int) -> None:  # fmt: skip
    tab, _ = page
    for path in (f"/ogc/collections/disaster_zones/items/{hostile_zone}?f=html",
                 "/ogc/collections/disaster_zones/items?f=html&limit=1000"):  # fmt: skip
        html = httpx.get(f"{server}{path}", timeout=60).text
        assert "</script><img" not in html, "the feature's text broke out of its script element"
        tab.goto(f"{server}{path}")
        tab.wait_for_selector("#items-map .leaflet-tile-container canvas", state="attached", timeout=30_000)
        tab.wait_for_load_state("networkidle")
        assert tab.evaluate("() => window.pwned") is None
        assert tab.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
        if "/items/" in path:
            assert PAYLOAD in tab.inner_text("body")  # shown as the text it is
    assert violations(console) == []
