"""The public portal and pygeoapi's HTML pages over HTTP: languages, the layer catalogue, vendored
assets only (no CDN), and pygeoapi pointed at our templates and basemap."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from geo.registry import REGISTRY
from tiles.vector import BASEMAP

PROJECT_DIR = Path(__file__).resolve().parent.parent
# What a page loads: scripts, stylesheets and icons (not <link rel="alternate"> and the like).
ASSET = re.compile(
    r'<script\b[^>]*\bsrc="([^"]+)"|<link\b[^>]*\brel="(?:stylesheet|icon|shortcut icon)"[^>]*\bhref="([^"]+)"'
)
IMPORT = re.compile(r"""import[^"';]*["']([^"']+)["']""")


def assets(html: str) -> set[str]:
    return {script or link for script, link in ASSET.findall(html)}


def portal_config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="portal-config">(.*?)</script>', html, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_portal_is_vietnamese_by_default_with_an_english_toggle(client: httpx.Client) -> None:
    vi = client.get("/portal")
    assert vi.status_code == 200
    assert '<html lang="vi">' in vi.text and "Phản ánh hiện trường" in vi.text and 'href="/portal?lang=en"' in vi.text
    en = client.get("/portal", params={"lang": "en"})
    assert '<html lang="en">' in en.text and "Report a problem" in en.text and 'href="/portal?lang=vi"' in en.text
    assert client.get("/portal", params={"lang": "fr"}).status_code == 422


def test_portal_links_the_emergency_view(client: httpx.Client) -> None:
    assert 'href="/emergency?lang=vi"' in client.get("/portal").text


def test_portal_offers_every_layer_not_in_the_basemap(client: httpx.Client) -> None:
    config = portal_config(client.get("/portal").text)
    offered = {layer["id"] for layer in config["layers"]}
    assert offered == set(REGISTRY) - {layer.table for layer in BASEMAP.layers}
    reports = next(layer for layer in config["layers"] if layer["id"] == "citizen_reports")
    assert reports["visible"] and reports["id_field"] == "code"
    assert "description" not in reports["fields"], "no free text (it may hold personal data) in public tiles"
    assert config["style"] == "/tiles/basemap/style.json?lang=vi"


def test_portal_assets_are_served_by_the_platform(client: httpx.Client) -> None:
    html = client.get("/portal").text
    urls = assets(html)
    assert urls and all(url.startswith("/") for url in urls), urls
    script = client.get("/static/portal.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    modules = set(IMPORT.findall(script.text))
    assert modules == {"/static/vendor/maplibre-gl/maplibre-gl.mjs"}
    for url in [*urls, *modules, "/static/vendor/maplibre-gl/maplibre-gl-worker.mjs"]:
        response = client.get(url)
        assert response.status_code == 200, url
        if url.endswith((".js", ".mjs")):
            assert "javascript" in response.headers["content-type"], "module scripts need a JavaScript type"


def test_no_web_asset_of_ours_names_a_cdn() -> None:
    web = PROJECT_DIR / "api" / "web"
    mine = [
        *web.glob("templates/portal*.html"),
        *web.glob("templates/maps*.html"),
        *web.glob("static/portal*"),
        *(web / "pygeoapi").rglob("*.html"),
        *(web / "pygeoapi").rglob("*.js"),
    ]
    assert len(mine) > 20
    # Loaded assets only: plain links (<a href>) to other sites are fine.
    external = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)
    offenders = [str(path) for path in mine if external.search(path.read_text())]
    assert offenders == []


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/",
        "/ogc/collections",
        "/ogc/collections/schools",
        "/ogc/collections/schools/items",
        "/ogc/collections/tourism_sites/items/1",
        "/ogc/openapi",
    ],
)
def test_pygeoapi_pages_use_our_templates_and_local_assets(client: httpx.Client, server: str, path: str) -> None:
    page = client.get(path, params={"f": "html"})
    if path.endswith("/items/1") and page.status_code == 404:
        first = client.get("/ogc/collections/tourism_sites/items", params={"f": "json", "limit": 1}).json()
        page = client.get(f"/ogc/collections/tourism_sites/items/{first['features'][0]['id']}", params={"f": "html"})
    assert page.status_code == 200
    urls = assets(page.text)
    assert all(url.startswith(server) for url in urls if "//" in url), urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    if path != "/ogc/openapi":
        assert "huegis-logo.svg" in page.text and f"{server}/portal" in page.text


def test_pygeoapi_maps_draw_our_vector_basemap(client: httpx.Client, server: str) -> None:
    page = client.get("/ogc/collections/schools/items", params={"f": "html"}).text
    # The map is drawn by huegis-pages.js (no inline script: CSP) from the page's JSON data block.
    assert "/ogc/static/js/huegis-pages.js" in page and f"{server}/tiles/basemap/{{z}}/{{x}}/{{y}}.mvt" in page
    pages = client.get("/ogc/static/js/huegis-pages.js")
    assert pages.status_code == 200 and "huegisBasemap(" in pages.text
    script = client.get("/ogc/static/js/huegis-basemap.js")
    assert script.status_code == 200 and "L.vectorGrid.protobuf" in script.text
