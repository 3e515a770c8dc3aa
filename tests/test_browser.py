"""Real pages in headless Chromium (Debian's chromium driven by PyPI playwright): the portal's map,
a citizen's report with a photo from pin to tracking code and back, the planners' map, pygeoapi's
map; every request must stay on 127.0.0.1. Screenshots go to .data/test-artifacts/."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import mapbox_vector_tile
import morecantile
import pytest
from chromium import ARTIFACTS, Recorder
from PIL import Image
from playwright.sync_api import Page

from geo.registry import REGISTRY

PROJECT_DIR = Path(__file__).resolve().parent.parent
MAP_WITH_FEATURES = """() => {
  const map = window.portal && window.portal.map;
  return !!map && map.loaded() && map.areTilesLoaded() && map.queryRenderedFeatures().length > 0;
}"""


def test_portal_renders_the_map_with_features(page: tuple[Page, Recorder], server: str) -> None:
    tab, recorder = page
    tab.goto(f"{server}/portal")
    tab.wait_for_selector("body[data-map-ready=true]")
    tab.wait_for_function(MAP_WITH_FEATURES, timeout=20_000)
    basemap = tab.evaluate("() => [...new Set(window.portal.map.queryRenderedFeatures().map(f => f.sourceLayer))]")
    assert {"admin_units", "admin_labels"} <= set(basemap)
    # Switch the layers on at start off, the schools on, and click a school: its details appear.
    tab.uncheck("#layer-citizen_reports")
    tab.uncheck("#layer-disaster_zones")
    tab.check("#layer-schools")
    tab.wait_for_function(
        "() => window.portal.map.areTilesLoaded() && "
        "window.portal.map.queryRenderedFeatures({layers: ['schools-points']}).length > 0"
    )
    point = tab.evaluate(
        "() => { const m = window.portal.map; const f = m.queryRenderedFeatures({layers: ['schools-points']})[0];"
        " const p = m.project(f.geometry.coordinates); return {x: p.x, y: p.y}; }"
    )
    tab.click("#map", position=point)
    tab.wait_for_selector("#details:not([hidden])")
    assert tab.text_content("#details-title") == REGISTRY["schools"].title_vi
    assert "/ogc/collections/schools/items/" in (tab.get_attribute("#details-link", "href") or "")
    assert any("/tiles/basemap/" in url for url in recorder.urls) and any(
        "/tiles/schools/" in url for url in recorder.urls
    )


@pytest.mark.parametrize("page", [(390, 844)], indirect=True)
def test_portal_fits_a_phone(page: tuple[Page, Recorder], server: str) -> None:
    tab, _ = page
    tab.goto(f"{server}/portal?lang=en")
    tab.wait_for_function(MAP_WITH_FEATURES, timeout=20_000)
    map_box = tab.locator("#map").bounding_box()
    panel_box = tab.locator("#panel").bounding_box()
    assert map_box and panel_box
    assert panel_box["y"] >= map_box["y"] + map_box["height"] - 1, "the panel sits under the map on a phone"
    assert map_box["width"] <= 390 and tab.evaluate("document.documentElement.scrollWidth") <= 390


def test_citizen_reports_a_problem_with_a_photo_and_follows_it(
    page: tuple[Page, Recorder], server: str, tmp_path: Path
) -> None:
    tab, _ = page
    photo = tmp_path / "o-ga.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (150, 90, 40)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())

    tab.goto(f"{server}/portal")
    tab.wait_for_function(MAP_WITH_FEATURES, timeout=20_000)
    tab.click("#tab-report")
    tab.wait_for_selector("#category option:nth-child(2)", state="attached")
    box = tab.locator("#map").bounding_box()
    assert box is not None
    tab.click("#map", position={"x": box["width"] / 2, "y": box["height"] / 2})  # the city centre
    tab.wait_for_selector("body[data-pinned=true]")
    tab.select_option("#category", index=1)
    tab.fill("#description", "Ổ gà lớn giữa đường, nguy hiểm cho xe máy vào ban đêm")
    tab.set_input_files("#photos", str(photo))
    tab.screenshot(path=_artifact("report-form.png"))
    tab.click("#report-submit")
    tab.wait_for_selector("#report-result:not([hidden])", timeout=20_000)
    code = (tab.text_content("#report-code") or "").strip()
    assert code

    # The report exists, with its photo, and with no personal data in the public answer.
    report = httpx.get(f"{server}/api/reports/{code}", timeout=10).json()
    assert report["code"] == code and len(report["photos"]) == 1 and "reporter_name" not in report
    # The public reports layer shows it at once: the insert bumped the layer's version.
    tile = morecantile.tms.get("WebMercatorQuad").tile(report["location"]["lon"], report["location"]["lat"], 15)
    mvt = httpx.get(f"{server}/tiles/citizen_reports/15/{tile.x}/{tile.y}.mvt", headers={"Cache-Control": "no-cache"})
    codes = {f["properties"]["code"] for f in mapbox_vector_tile.decode(mvt.content)["citizen_reports"]["features"]}
    assert code in codes

    # Later, in a new visit, the citizen finds it by its code.
    tab.goto(f"{server}/portal")
    tab.click("#tab-follow")
    tab.fill("#follow-code", code)
    tab.click("#follow-submit")
    tab.wait_for_selector("#follow-result:not([hidden])")
    assert tab.text_content("#follow-result-code") == code
    assert tab.locator("#follow-timeline li").count() >= 1
    tab.wait_for_function("() => { const img = document.querySelector('#follow-photos img'); "
                          "return img && img.complete && img.naturalWidth === 320; }")  # fmt: skip


def test_planners_map_shows_its_layers(page: tuple[Page, Recorder], server: str) -> None:
    tab, _ = page
    tab.goto(f"{server}/maps/overview")
    tab.wait_for_selector(".leaflet-control-layers-overlays label")
    overlays = tab.locator(".leaflet-control-layers-overlays label").all_text_contents()
    for layer_id in ("planning_zones", "schools", "health_facilities", "tourism_sites", "disaster_zones"):
        assert any(REGISTRY[layer_id].title_vi in label for label in overlays), layer_id
    assert any("Mật độ dân số" in label for label in overlays)
    assert tab.locator(".leaflet-overlay-pane canvas").count() >= 1, "layers drawn on the canvas renderer"
    assert tab.locator(".huegis-legend").is_visible()
    # Switching a layer off and on again goes through Leaflet's layer control.
    schools = tab.locator(".leaflet-control-layers-overlays label", has_text=REGISTRY["schools"].title_vi)
    schools.locator("input").uncheck()
    schools.locator("input").check()


def test_pygeoapi_items_page_draws_the_basemap_offline(page: tuple[Page, Recorder], server: str) -> None:
    tab, recorder = page
    tab.goto(f"{server}/ogc/collections/health_facilities/items?f=html&limit=50")
    tab.wait_for_selector("#items-map .leaflet-marker-icon, #items-map .marker-cluster")
    tab.wait_for_function("() => document.querySelectorAll('#items-map .leaflet-tile-container canvas').length > 0")
    assert any("/tiles/basemap/" in url for url in recorder.urls)


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
