"""An imported layer in the pages people use, in headless Chromium: the portal's layer list and
map, the home page's table of layers, pygeoapi's collection page.

A module of its own: playwright's sync API holds an event loop while the browser is open, and
the data tests run imports with ``asyncio.run``.
"""

from __future__ import annotations

import json

import httpx
from chromium import Recorder
from playwright.sync_api import Page

POINTS = {  # a few places in Huế, as a city's GeoJSON file would give them
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"ten": name}, "geometry": {"type": "Point", "coordinates": lonlat}}
        for name, lonlat in (("Đại Nội Huế", [107.5788, 16.4698]), ("Chợ Đông Ba", [107.588, 16.4735]),
                             ("Cầu Trường Tiền", [107.5903, 16.4676]))
    ],
}  # fmt: skip


def test_portal_and_home_page_list_an_imported_layer(
    page: tuple[Page, Recorder], client: httpx.Client, server: str, staff_headers
) -> None:
    """Imported through the API, the layer is in the portal's list, draws on its map, and is on the home page."""
    tab, recorder = page
    admin = staff_headers("gis_admin")
    response = client.post(
        "/api/layers/browser_points/imports",
        files={"file": ("diem.geojson", json.dumps(POINTS).encode())},
        data={"title": "Browser points", "title_vi": "Điểm trình duyệt"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    try:
        tab.goto(f"{server}/portal")
        tab.wait_for_selector("body[data-map-ready=true]")
        assert tab.locator("label[for=layer-browser_points]").inner_text().strip() == "Điểm trình duyệt"
        tab.check("#layer-browser_points")
        ids = tab.evaluate(
            "() => JSON.parse(document.getElementById('portal-config').textContent)"
            ".layers.find(l => l.id === 'browser_points').paint.map(p => p.id)"
        )
        tab.wait_for_function(
            "(ids) => window.portal.map.areTilesLoaded() && "
            "window.portal.map.queryRenderedFeatures({layers: ids}).length > 0",
            arg=ids,
            timeout=20_000,
        )
        assert any("/tiles/browser_points/" in url for url in recorder.urls)
        tab.goto(f"{server}/?lang=en")
        link = tab.locator('a[href="/ogc/collections/browser_points"]')
        assert link.inner_text().strip() == "Browser points"
        link.click()
        tab.wait_for_url(f"{server}/ogc/collections/browser_points")
        assert tab.locator("h1").first.inner_text().strip() in ("Browser points", "Điểm trình duyệt")
    finally:
        assert client.delete("/api/layers/browser_points", headers=admin).status_code == 204
