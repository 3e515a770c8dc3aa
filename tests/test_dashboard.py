"""The leaders' dashboard in headless Chromium: tiles, map, trend and bottlenecks render from the API."""

from __future__ import annotations

import httpx
from chromium import Recorder
from playwright.sync_api import Page


def test_dashboard_renders_tiles_map_and_bottlenecks(page: tuple[Page, Recorder], server: str,
                                                     client: httpx.Client) -> None:  # fmt: skip
    tab, recorder = page
    tab.goto(f"{server}/dashboard?lang=en")
    tab.wait_for_function("() => document.body.dataset.ready || document.body.dataset.error", timeout=60_000)
    assert tab.evaluate("document.body.dataset.error") is None
    month = tab.evaluate("document.body.dataset.ready")
    start, end = tab.evaluate("() => [state.period.start, state.period.end]")
    assert start == f"{month}-01"
    expected = client.get("/api/kpis", params={"start": start, "end": end}).json()["groups"][0]
    received = tab.locator("#tile-received .value").inner_text()
    assert received.replace(",", "") == str(expected["received"])
    assert tab.locator("#tile-processed .label").inner_text() == "Processed"
    assert tab.evaluate("document.getElementById('map').dataset.units") == "40"
    assert tab.locator("#map path.leaflet-interactive").count() >= 40 or tab.locator("#map canvas").count() >= 1
    assert tab.locator("#trend rect").count() >= 1
    items = tab.locator("#bottlenecks li")
    assert items.count() >= 1 and items.first.inner_text() != "Loading…"
    assert recorder.outside() == []


def test_dashboard_is_vietnamese_by_default(page: tuple[Page, Recorder], server: str) -> None:
    tab, _ = page
    tab.goto(f"{server}/dashboard")
    tab.wait_for_function("() => document.body.dataset.ready || document.body.dataset.error", timeout=60_000)
    assert "Trung tâm điều hành" in tab.locator("h1").inner_text()
    assert tab.locator("#tile-satisfied .label").inner_text() == "Hài lòng"
