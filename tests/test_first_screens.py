"""First screens each user trusts, in headless Chromium at phone (390x844) and desktop size, under the
platform's Content-Security-Policy (api/security.py): every page loads with no violation, no script
error, a title and a language, nothing sideways on a phone; the portal's details, form and refusals;
the emergency view's counts; the dashboard's picker; the maps' overlays; every visible word of the
citizen and emergency pages in both languages. Screenshots go to .data/test-artifacts/."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import auth_helpers
import httpx
import psycopg
import pytest
from app_server import app_server
from chromium import ARTIFACTS
from disaster_fixtures import ZoneMaker, staff_headers, zone_maker
from PIL import Image
from playwright.sync_api import Browser, Page

from api.errors import MESSAGES
from geo.settings import Settings
from geo.times import TZ

PHONE, DESKTOP = (390, 844), (1280, 800)
SIZES = {"phone": PHONE, "desktop": DESKTOP}
# What each page has finished drawing when this is true (functions: a CSP without 'unsafe-eval' refuses
# Playwright's evaluation of bare expressions in the page).
READY = {
    "/": "() => document.readyState === 'complete'",
    "/portal": "() => document.body.dataset.mapReady === 'true' && document.body.dataset.reports !== undefined",
    "/portal?lang=en": "() => document.body.dataset.mapReady === 'true' && document.body.dataset.reports !== undefined",
    "/dashboard": "() => !!document.body.dataset.ready",
    "/emergency": "() => document.body.dataset.mapReady === 'true'",
    "/emergency?lang=en": "() => document.body.dataset.mapReady === 'true'",
    "/maps": "() => document.readyState === 'complete'",
    "/maps/overview": "() => !!document.querySelector('.leaflet-control-layers-overlays label')",
}
# The folium map of a /maps page, and how many features it draws.
FIND_MAP = "Object.values(window).find((v) => v instanceof L.Map)"
DRAWN = f"() => {{ let n = 0; {FIND_MAP}.eachLayer((l) => {{ if (l.feature) n += 1; }}); return n; }}"
LOADED = "(overlay) => (document.querySelector('.folium-map').dataset.loadedOverlays || '').includes(overlay)"
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture(scope="module")
def strict(loaded: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The platform on a server of its own, behind its strict CSP (no page is exempt)."""
    env = {**os.environ, "HUEGIS_DB_NAME": loaded.db_name, "HUEGIS_PYGEOAPI_OPENAPI": str(loaded.pygeoapi_openapi)}
    log = tmp_path_factory.mktemp("strict") / "uvicorn.log"
    with app_server(env, log) as app:
        yield app.url


@dataclass
class Tab:
    """A page and what went wrong on it: CSP violations, script errors, requests leaving the machine."""

    page: Page
    problems: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # 4xx/5xx answers (some tests provoke them)
    requests: list[str] = field(default_factory=list)

    def console(self, kind: str, text: str) -> None:
        if text.startswith("Failed to load resource"):
            self.failed.append(text)
        elif kind == "error" or "Refused" in text:
            self.problems.append(text)

    def violations(self) -> list[str]:
        return [*self.problems, *self.page.evaluate("() => window.__csp || []")]


@pytest.fixture
def tab(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Tab]:
    size = getattr(request, "param", "desktop")
    touch = size.endswith("-touch")  # a phone that is tapped (Playwright's mouse would hover first)
    viewport = dict(zip(("width", "height"), SIZES[size.removesuffix("-touch")], strict=True))
    context = browser.new_context(viewport=viewport, locale="vi-VN", has_touch=touch, is_mobile=touch)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    recorded = Tab(page)
    page.on("console", lambda m: recorded.console(m.type, m.text))
    page.on("pageerror", lambda e: recorded.problems.append(f"script error: {e}"))
    page.on("request", lambda r: recorded.requests.append(r.url))
    yield recorded
    context.close()
    outside = [
        u for u in recorded.requests if urlsplit(u).scheme in ("http", "https") and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert outside == [], "every request must stay on 127.0.0.1"


def shot(tab: Tab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=ARTIFACTS / f"first-screens-{name}.png")


def tap_map(page: Page, lon: float, lat: float) -> None:
    """Tap the portal's map where (lon, lat) is drawn."""
    project = "([lon, lat]) => { const p = window.portal.map.project([lon, lat]); return {x: p.x, y: p.y}; }"
    point = page.evaluate(project, [lon, lat])
    page.click("#map", position=point)


def load(tab: Tab, base: str, path: str) -> Page:
    tab.page.goto(base + path)
    tab.page.wait_for_function(READY.get(path) or READY[urlsplit(path).path], timeout=30_000)
    return tab.page


# --- every page, phone and desktop ----------------------------------------------------------------


@pytest.mark.parametrize("tab", list(SIZES), indirect=True)
@pytest.mark.parametrize("path", list(READY))
def test_pages_obey_the_csp_and_fit_the_screen(
    tab: Tab, strict: str, path: str, request: pytest.FixtureRequest
) -> None:
    page = load(tab, strict, path)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.wait_for_timeout(300)
    shot(tab, re.sub(r"\W+", "-", f"{path.strip('/') or 'home'}-{request.node.callspec.id}"))
    assert tab.violations() == [] and tab.failed == [], "no CSP violation, no script error, no failed request"
    lang = page.get_attribute("html", "lang")
    assert lang == ("en" if "lang=en" in path else "vi")
    assert page.title().startswith("HueGIS — ") and len(page.title()) > len("HueGIS — ") + 3
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    if path.startswith(("/portal", "/emergency", "/maps/")):
        scales = page.locator(".leaflet-control-scale-line, .maplibregl-ctrl-scale").all_text_contents()
        assert scales and all(re.search(r"\d\s*(m|km)$", s.strip()) for s in scales), scales  # metric only
    if path.startswith(("/emergency", "/portal")):
        box = page.locator("#map").bounding_box()
        assert box and box["height"] > 250, "a map, on phones too"


def test_favicon_and_compression(client: httpx.Client) -> None:
    assert client.get("/favicon.ico").status_code == 200
    gzip = {"Accept-Encoding": "gzip"}
    vendor = "/static/vendor/maplibre-gl/maplibre-gl.mjs"
    first, again = client.get(vendor, headers=gzip), client.get(vendor, headers=gzip)
    assert first.headers["content-encoding"] == "gzip" and first.headers["vary"] == "Accept-Encoding"
    assert int(first.headers["content-length"]) < 0.4 * len(first.content)  # httpx inflated it
    assert first.headers["etag"] == again.headers["etag"] and first.content == again.content
    assert client.get(vendor, headers={**gzip, "If-None-Match": first.headers["etag"]}).status_code == 304
    assert "content-encoding" not in client.get(vendor, headers={"Accept-Encoding": "identity"}).headers
    for path in ("/portal", "/api/report-categories", "/ogc/collections/places/items?f=json&limit=200",
                 "/tiles/basemap/11/1635/928.mvt"):  # fmt: skip
        response = client.get(path, headers=gzip)
        assert response.status_code == 200 and response.headers.get("content-encoding") == "gzip", path


# --- the portal -------------------------------------------------------------------------------------


@pytest.mark.parametrize("tab", ["phone"], indirect=True)
def test_portal_tap_opens_details_in_words_in_view(tab: Tab, strict: str) -> None:
    page = load(tab, strict, "/portal")
    assert int(page.evaluate("() => document.body.dataset.reports")) > 0, "open and recent reports are drawn"
    assert page.locator("#reports-legend li").count() == 6
    page.uncheck("#layer-citizen_reports")
    page.check("#layer-schools")
    # A school in the upper part of the map, above where the sheet will open.
    school = (
        "() => { const m = window.portal.map; if (!m.areTilesLoaded()) return null;"
        " const f = m.queryRenderedFeatures({layers: ['schools-points']})"
        "   .find((f) => { const p = m.project(f.geometry.coordinates);"
        "     return p.y > 40 && p.y < 400 && p.x > 40 && p.x < 350; });"
        " if (!f) return null; const p = m.project(f.geometry.coordinates); return {x: p.x, y: p.y}; }"
    )
    page.wait_for_function(school)
    point = page.evaluate(school)
    page.click("#map", position=point)
    page.wait_for_selector("#details:not([hidden])")
    box = page.locator("#details").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + 40 < PHONE[1], "the sheet is on screen"
    shot(tab, "portal-details-phone")
    labels = page.locator("#details-table th").all_text_contents()
    assert "Cấp học" in labels and not [label for label in labels if "_" in label], labels
    values = page.locator("#details-table td").all_text_contents()
    assert any(v in ("Mầm non", "Tiểu học", "Trung học cơ sở", "Trung học phổ thông", "Đại học") for v in values)
    assert tab.violations() == []


def test_portal_lists_every_problem_before_sending(tab: Tab, strict: str, tmp_path) -> None:
    page = load(tab, strict, "/portal")
    page.click("#tab-report")
    page.wait_for_selector("#category option:nth-child(2)", state="attached")
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\x00" * (9 * 1024 * 1024))
    gif = tmp_path / "anh.gif"
    gif.write_bytes(b"GIF89a" + b"\x00" * 100)
    page.set_input_files("#photos", [str(big), str(gif)])
    page.click("#report-submit")
    items = page.locator("#report-error li").all_text_contents()
    assert len(items) == 5, items  # location, category, description, photo type, photo size
    for control in ("#use-location", "#category", "#description", "#photos"):
        assert page.get_attribute(control, "aria-invalid") == "true", control
    assert "Mỗi ảnh phải nhỏ hơn 8 MB." in items
    assert not [u for u in tab.requests if u.endswith("/api/reports")], "nothing was uploaded"
    shot(tab, "portal-form-problems")
    # A pin in the sea, north-east of the city: refused at once, in words.
    page.evaluate("() => window.portal.map.jumpTo({center: [107.7, 16.6], zoom: 9})")
    tap_map(page, 107.95, 16.85)
    page.wait_for_selector("#location-error:not([hidden])")
    assert "ngoài Thành phố Huế" in (page.text_content("#location-error") or "")
    # A refusal only the server can make (bytes that only look like a JPEG): its code, in Vietnamese.
    tap_map(page, 107.585, 16.463)
    page.wait_for_function("() => document.getElementById('location-error').hidden")
    page.select_option("#category", index=1)
    page.fill("#description", "Đèn đường hỏng cả tuần nay, buổi tối rất tối")
    fake = tmp_path / "hong.jpg"
    fake.write_bytes(b"\xff\xd8\xff" + b"not really a photo" * 20)
    page.set_input_files("#photos", str(fake))
    page.click("#report-submit")
    page.wait_for_selector("#photos-error:not([hidden])")
    assert page.text_content("#photos-error") == "Ảnh phải là JPEG, PNG hoặc WebP."
    assert tab.violations() == []


@pytest.mark.parametrize("tab", ["phone"], indirect=True)
def test_portal_shows_every_server_refusal_in_words(tab: Tab, strict: str, tmp_path) -> None:
    """Problems only the server sees (a fake photo, an over-long name) come back coded, all at once."""
    page = load(tab, strict, "/portal?lang=en")
    page.context.grant_permissions(["geolocation"], origin=strict)
    page.context.set_geolocation({"latitude": 16.463, "longitude": 107.585})
    page.click("#tab-report")
    page.wait_for_selector("#category option:nth-child(2)", state="attached")
    page.click("#use-location")
    page.wait_for_function("() => document.getElementById('location-value').textContent.includes('·')")
    page.select_option("#category", index=1)
    page.fill("#description", "Streetlight out on the riverside path for a week")
    page.eval_on_selector("input[name=reporter_name]", "(el) => { el.value = 'x'.repeat(201); }")  # past maxlength
    fake = tmp_path / "lamp.jpg"
    fake.write_bytes(b"\xff\xd8\xff" + b"not really a photo" * 20)
    page.set_input_files("#photos", str(fake))
    page.click("#report-submit")
    page.wait_for_selector("#photos-error:not([hidden])")
    items = page.locator("#report-error li").all_text_contents()
    assert items == ["The contact details are too long.", "Photos must be JPEG, PNG or WebP."], items
    assert page.text_content("#photos-error") == "Photos must be JPEG, PNG or WebP."
    assert page.get_attribute("#photos", "aria-invalid") == "true"
    assert "photos-error" in (page.get_attribute("#photos", "aria-describedby") or "")
    assert page.get_attribute("#report-error", "role") == "alert"
    name = "input[name=reporter_name]"
    assert page.get_attribute(name, "aria-invalid") == "true"
    assert page.get_attribute("input[name=reporter_phone]", "aria-invalid") is None
    assert page.text_content("#contact-error") == "The contact details are too long."
    assert page.get_attribute(name, "aria-describedby") == "contact-error" and page.is_visible(name)
    page.locator("#report-error").scroll_into_view_if_needed()
    shot(tab, "portal-server-refusals-phone")
    assert tab.violations() == []


def summary_on_screen(page: Page) -> list[str]:
    """The refusal's items, after checking the summary is in view and has the focus."""
    page.wait_for_selector("#report-error:not([hidden])")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'report-error'")
    box = page.locator("#report-error").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + 60 <= PHONE[1], box
    return page.locator("#report-error li").all_text_contents()


@pytest.mark.parametrize("tab", ["phone"], indirect=True)
def test_portal_refusal_is_in_view_on_a_phone_and_follows_the_form(tab: Tab, strict: str) -> None:
    """An empty form refused: the summary scrolled into view and focused; it shrinks as fields are fixed;
    a wrong phone number and e-mail address are refused before sending, at the contact fields."""
    page = load(tab, strict, "/portal")
    page.click("#tab-report")
    page.wait_for_selector("#category option:nth-child(2)", state="attached")
    page.click("#report-submit")
    items = summary_on_screen(page)
    assert len(items) == 3 and items[0].startswith("Hãy đặt ghim"), items
    shot(tab, "portal-refusal-phone")
    tap_map(page, 107.585, 16.463)  # the pin: its problem goes at once
    page.wait_for_function("() => document.getElementById('location-value').textContent.includes('·')")
    page.wait_for_function("() => document.querySelectorAll('#report-error li').length === 2")
    assert not [i for i in page.locator("#report-error li").all_text_contents() if i.startswith("Hãy đặt ghim")]
    assert page.get_attribute("#use-location", "aria-invalid") is None
    page.select_option("#category", index=1)
    page.fill("#description", "Cống thoát nước bị tắc, nước tràn ra đường")
    page.wait_for_selector("#report-error", state="hidden")
    page.click("#contact summary")
    page.fill("input[name=reporter_phone]", "abc")
    page.fill("input[name=reporter_email]", "not-an-email")
    page.click("#report-submit")
    items = summary_on_screen(page)
    texts = [MESSAGES[code][0] for code in ("phone_invalid", "email_invalid")]
    assert items == texts, items
    assert page.text_content("#contact-error") == " ".join(texts)
    for name in ("reporter_phone", "reporter_email"):
        assert page.get_attribute(f"input[name={name}]", "aria-invalid") == "true", name
    assert not [u for u in tab.requests if u.endswith("/api/reports")], "nothing was sent"
    page.fill("input[name=reporter_phone]", "0905 123 456")
    page.wait_for_function("() => document.querySelectorAll('#report-error li').length === 1")
    page.fill("input[name=reporter_email]", "ten@example.vn")
    page.wait_for_selector("#report-error", state="hidden")
    page.click("#report-submit")
    page.wait_for_selector("#report-result:not([hidden])", timeout=20_000)
    assert tab.violations() == []


def test_portal_keeps_follow_tokens_for_the_session_only(tab: Tab, strict: str, tmp_path) -> None:
    page = load(tab, strict, "/portal?lang=en")
    page.click("#tab-report")
    page.wait_for_selector("#category option:nth-child(2)", state="attached")
    tap_map(page, 107.585, 16.463)
    page.wait_for_function("() => document.getElementById('location-value').textContent.includes('·')")
    page.select_option("#category", index=2)
    page.fill("#description", "Streetlight out on the riverside path for a week")
    photo = tmp_path / "lamp.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 20, 20)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    page.set_input_files("#photos", str(photo))
    page.click("#report-submit")
    page.wait_for_selector("#report-result:not([hidden])", timeout=20_000)
    code = (page.text_content("#report-code") or "").strip()
    stored = page.evaluate("() => [localStorage.getItem('huegis.reports'), sessionStorage.getItem('huegis.tokens')]")
    assert code in stored[0] and "token" not in stored[0] and code in stored[1]
    page.click("#follow-new")
    page.wait_for_selector("#follow-result:not([hidden])")
    timeline = page.locator("#follow-timeline li").all_text_contents()
    assert timeline and "Report received" in timeline[0] and "Routed to" not in timeline[0]
    assert tab.violations() == []


# --- the emergency view -------------------------------------------------------------------------------


@pytest.fixture
def zones(client: httpx.Client, loaded: Settings, db: psycopg.Connection) -> Iterator[ZoneMaker]:
    yield from zone_maker(client, staff_headers(loaded), db)


@pytest.mark.parametrize("tab", ["phone"], indirect=True)
def test_emergency_counts_only_zones_the_feeds_call_active(tab: Tab, strict: str, zones: ZoneMaker) -> None:
    zones.create()
    zones.create(status="Test", headline_vi="Thử nghiệm hệ thống cảnh báo", headline_en="Warning system test")
    try:
        page = load(tab, strict, "/emergency")
        atom = httpx.get(f"{strict}/feeds/cap.atom").text
        active = atom.count("<entry>")
        assert page.text_content("#active-count") == str(active) and active >= 1
        test_zone = page.locator(".zone[data-status=Test]")
        assert test_zone.count() == 1 and "Thử nghiệm" in (test_zone.locator(".badge.exercise").text_content() or "")
        assert page.locator("#legend li").count() >= 8
        box = page.locator("#map").bounding_box()
        assert box and box["height"] > 300
        shot(tab, "emergency-zones-phone")
        assert tab.violations() == []
    finally:
        zones.cleanup()


# --- the dashboard ------------------------------------------------------------------------------------


def test_dashboard_opens_on_this_month_and_follows_the_picker(tab: Tab, strict: str) -> None:
    page = load(tab, strict, "/dashboard")
    this_month = datetime.now(TZ).strftime("%Y-%m")
    assert page.evaluate("() => document.body.dataset.ready") == this_month
    options = page.eval_on_selector_all("#month option", "els => els.map(e => e.value)")
    assert options[0] == this_month and "2019-01" in options and len(options) == len(set(options))
    assert "cùng kỳ tháng trước" in (page.text_content("#period-note") or "")
    assert_headline_is_the_api(page, strict, this_month)
    assert page.locator("#map-legend li").count() == 6
    last_month, titles = options[1], []
    for month in (this_month, last_month):
        if month != this_month:
            page.select_option("#month", month)
            page.wait_for_function(f"() => document.body.dataset.ready === '{month}'")
        page.evaluate("() => showUnit('19753', 'Phường Thuận Hóa')")
        page.wait_for_function("() => document.getElementById('unit').dataset.backlog !== undefined")
        start, end = page.evaluate("() => [state.period.start, state.period.end]")
        kpis = httpx.get(f"{strict}/api/kpis/units/19753", params={"start": start, "end": end}).json()["kpis"]
        unit = page.locator("#unit")
        assert unit.get_attribute("data-backlog") == str(kpis["backlog"]), "the list is the backlog"
        assert unit.get_attribute("data-overdue") == str(kpis["overdue"])
        titles.append(page.text_content("#unit-title"))
        page.evaluate("() => document.getElementById('unit').removeAttribute('data-backlog')")
    assert titles[0] != titles[1] and "(đến nay)" in (titles[0] or ""), titles
    shot(tab, "dashboard-unit")
    assert tab.violations() == []


def assert_headline_is_the_api(page: Page, base: str, month: str) -> None:
    """The tiles and the note show what /api/kpis?month= answers: last month seen as long after its start."""
    body = httpx.get(f"{base}/api/kpis", params={"month": month}).json()
    note = page.locator("#period-note")
    seen = datetime.fromisoformat(note.get_attribute("data-previous-as-of") or "")
    assert abs(seen - datetime.fromisoformat(body["previous"]["as_of"])) < timedelta(minutes=2)
    now, before = body["groups"][0], body["previous"]["groups"][0]
    assert page.text_content("#tile-received .value") == page.evaluate("(x) => num(x)", now["received"])
    if now["processed_share"] is not None and before["processed_share"] is not None:
        shown = page.evaluate("([k, p]) => [pct(k), points(Math.abs(k - p))]",
                              [now["processed_share"], before["processed_share"]])  # fmt: skip
        assert page.text_content("#tile-processed .value") == shown[0]
        assert shown[1] in (page.text_content("#tile-processed .delta") or "")


@pytest.mark.parametrize("tab", list(SIZES), indirect=True)
def test_dashboard_says_what_it_compares(tab: Tab, strict: str) -> None:
    """In English too: the same days of each month with their working days; a whole month against a whole month."""
    page = tab.page
    page.goto(strict + "/dashboard?lang=en")
    page.wait_for_function(READY["/dashboard"], timeout=30_000)
    today = datetime.now(TZ)
    body = httpx.get(f"{strict}/api/kpis", params={"month": f"{today:%Y-%m}"}).json()
    mine, theirs = body["period"]["working_days"], body["previous"]["period"]["working_days"]
    note = page.text_content("#period-note") or ""
    assert f"each as of day {today.day}" in note and f"{today.day} {today:%b}" in note, note
    assert (f"{mine} working days vs {theirs}" if mine != theirs else f"{mine} working days each") in note, note
    # The running month is partial on the trend: a dashed segment or open marker, and a label.
    assert page.evaluate("() => document.getElementById('trend').dataset.partial") == f"{today:%Y-%m}"
    assert page.locator("#trend .partial-label").text_content() == "so far"
    assert page.locator("#trend circle.partial").count() >= 1 and page.locator("#trend rect.partial").count() == 1
    # The bottleneck note names the real days of the window it judged (at least 7, up to now).
    bottleneck = page.locator("#bottleneck-note")
    until = datetime.fromisoformat(bottleneck.get_attribute("data-as-of") or "").astimezone(TZ)
    since = until - timedelta(days=int(bottleneck.get_attribute("data-window-days") or 0))
    text = bottleneck.inner_text()
    assert f"from {since.day} {since:%b} {since:%H:%M} to {until.day} {until:%b %Y} {until:%H:%M}" in text, text
    # Hotline counts are public: the tile shows them. Dates are day first; deltas have one decimal.
    assert re.fullmatch(r"[\d,]+ / [\d,]+", page.locator("#tile-calls .value").inner_text())
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2}\b", page.locator("body").inner_text())
    for tile in ("processed", "on-time", "satisfied"):
        delta = page.locator(f"#tile-{tile} .delta").inner_text()
        assert not delta or re.search(r"\d\.\d pts", delta), delta
    width = page.viewport_size["width"] if page.viewport_size else 0
    shot(tab, f"dashboard-en-running-{width}")
    last_month = page.eval_on_selector_all("#month option", "els => els.map(e => e.value)")[1]
    page.select_option("#month", last_month)
    page.wait_for_function(f"() => document.body.dataset.ready === '{last_month}'")
    note = page.text_content("#period-note") or ""
    first = datetime.fromisoformat(f"{last_month}-01")
    before, last = first - timedelta(days=1), today.replace(day=1) - timedelta(days=1)
    body = httpx.get(f"{strict}/api/kpis", params={"month": last_month}).json()
    days = (body["period"]["working_days"], body["previous"]["period"]["working_days"])
    assert note == f"{first:%B %Y} vs {before:%B %Y} ({days[0]} and {days[1]} working days).", note
    assert page.evaluate("() => document.getElementById('trend').dataset.partial") == ""
    text = page.locator("#bottleneck-note").inner_text()
    assert f"from 1 {first:%b} to {last.day} {last:%b %Y} (" in text, text
    assert_headline_is_the_api(page, strict, last_month)
    shot(tab, f"dashboard-en-{width}")
    assert tab.violations() == []


def test_dashboard_says_what_it_compares_in_vietnamese(tab: Tab, strict: str) -> None:
    """The working days and the partial month in Vietnamese; dates day/month."""
    page = load(tab, strict, "/dashboard")
    body = httpx.get(f"{strict}/api/kpis", params={"month": datetime.now(TZ).strftime("%Y-%m")}).json()
    mine, theirs = body["period"]["working_days"], body["previous"]["period"]["working_days"]
    note = page.text_content("#period-note") or ""
    assert (f"{mine} ngày làm việc so với {theirs}" if mine != theirs else f"mỗi kỳ {mine} ngày làm việc") in note, note
    assert page.locator("#trend .partial-label").text_content() == "đến nay"
    assert "Các phản ánh nhận từ " in page.locator("#bottleneck-note").inner_text()
    assert tab.violations() == []


# --- the basemap's sea ----------------------------------------------------------------------------------

WATER = (0xA9, 0xD3, 0xE8)  # tiles/style.py and the maps' water colour
# Open sea beyond the old GSHHG clip (it ended at 108.3° E and 16.8° N), inside it, and its corner.
SEA = [(108.6, 17.0), (108.45, 16.5), (107.9, 17.1), (108.1, 16.7), (108.3, 16.8)]
PIXEL_AT = """([lon, lat]) => { const p = window.portal.map.project([lon, lat]); return [p.x, p.y]; }"""


def colour_at(png: bytes, x: float, y: float) -> tuple[int, ...]:
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((round(x), round(y)))


def is_water(colour: tuple[int, ...]) -> bool:
    return sum(abs(a - b) for a, b in zip(colour, WATER, strict=True)) <= 12


def map_shot(page: Page, name: str) -> bytes:
    """The map alone as PNG, kept as an artifact (one capture: each costs seconds with software WebGL)."""
    png = page.locator("#map").screenshot()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"first-screens-{name}.png").write_bytes(png)
    return png


def jump(page: Page, lon: float, lat: float, zoom: int) -> None:
    page.evaluate(f"() => window.portal.map.jumpTo({{center: [{lon}, {lat}], zoom: {zoom}}})")
    page.wait_for_function("() => window.portal.map.loaded() && window.portal.map.areTilesLoaded()", timeout=30_000)
    page.wait_for_timeout(300)


def test_the_sea_has_no_edge(tab: Tab, strict: str) -> None:
    """The sea runs on past the city at every zoom, and the view stops before the data does."""
    page = load(tab, strict, "/portal")
    for layer in page.evaluate("() => window.portal.map.getStyle().layers.map((l) => l.id)"):
        if layer not in ("background", "land", "water"):  # the sea itself, nothing drawn over it
            page.evaluate("(id) => window.portal.map.setLayoutProperty(id, 'visibility', 'none')", layer)
    box = page.locator("#map").bounding_box()
    assert box
    for zoom in (8, 10, 13):
        jump(page, 108.3, 16.8, zoom)
        png = map_shot(page, f"sea-z{zoom}")
        drawn = 0
        for lon, lat in SEA:
            x, y = page.evaluate(PIXEL_AT, [lon, lat])
            if 0 <= x < box["width"] and 0 <= y < box["height"]:
                drawn += 1
                assert is_water(colour_at(png, x, y)), f"no sea drawn at {lon}, {lat} at z{zoom}"
        assert drawn, f"no test point in view at z{zoom}"
    # As far out and as far east as the page lets one go: sea to the map's edge, no rectangle.
    jump(page, 125, 16, 7)
    east = page.evaluate("() => window.portal.map.getBounds().getEast()")
    assert east <= 118.0 + 1e-6, "the view stays inside the sea's extent"
    png = map_shot(page, "sea-east-edge")
    edge = [colour_at(png, box["width"] - 3, box["height"] * f) for f in (0.3, 0.5, 0.7)]
    assert all(is_water(c) for c in edge), edge
    assert tab.violations() == []


def test_the_planners_sea_has_no_edge(tab: Tab, strict: str) -> None:
    """The folium maps draw the same sea past the old clip, and zoom out no further than it reaches."""
    page = load(tab, strict, "/maps/overview")
    find = FIND_MAP
    assert page.evaluate(f"() => {find}.getMinZoom()") >= 8
    png = page.screenshot()
    shot(tab, "overview-sea")
    point = f"([lon, lat]) => {{ const p = {find}.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }}"
    for lon, lat in [(108.4, 16.3), (108.35, 16.55)]:  # past 108.3° E, clear of the layer control and legend
        x, y = page.evaluate(point, [lon, lat])
        assert is_water(colour_at(png, x, y)), f"no sea drawn at {lon}, {lat}"


# --- the planners' maps -------------------------------------------------------------------------------


def test_overview_opens_with_a_few_overlays(tab: Tab, strict: str) -> None:
    page = load(tab, strict, "/maps/overview")
    overlays = page.locator(".leaflet-control-layers-overlays input")
    checked = sum(1 for i in range(overlays.count()) if overlays.nth(i).is_checked())
    assert overlays.count() >= 8 and 1 <= checked <= 4
    assert tab.violations() == []


def test_overview_fetches_a_hidden_overlay_when_switched_on(tab: Tab, strict: str) -> None:
    """The planning zones are not in the page: switching them on fetches and draws them."""
    page = load(tab, strict, "/maps/overview?lang=en")
    assert not [u for u in tab.requests if "/overlays/" in u], "no hidden overlay is fetched on opening"
    before = page.evaluate(DRAWN)
    with page.expect_response(lambda r: r.url.endswith("/maps/overview/overlays/planning_zones")) as answer:
        page.get_by_label(re.compile(r"Planning zones \(\d+\)")).check()
    assert answer.value.status == 200 and answer.value.headers["content-type"] == "application/geo+json"
    zones = len(answer.value.json()["features"])
    page.wait_for_function(LOADED, arg="planning_zones")
    assert zones > 0 and page.evaluate(DRAWN) == before + zones, "every zone drawn"
    assert page.locator(".huegis-status").is_hidden(), "the loading note goes once drawn"
    shot(tab, "overview-planning-zones-on")
    page.get_by_label(re.compile(r"Planning zones")).uncheck()
    page.get_by_label(re.compile(r"Planning zones")).check()
    assert page.evaluate(DRAWN) == before + zones
    assert len([u for u in tab.requests if "/overlays/" in u]) == 1, "fetched once"
    assert tab.violations() == []


@pytest.mark.parametrize("tab", ["phone-touch"], indirect=True)
def test_overview_layer_control_is_a_button_on_phones(tab: Tab, strict: str) -> None:
    page = load(tab, strict, "/maps/overview")
    control = page.locator(".leaflet-control-layers")
    folded = control.bounding_box()
    assert folded and folded["width"] * folded["height"] < 0.01 * PHONE[0] * PHONE[1], "a button, not a list"
    shot(tab, "overview-phone-layers-folded")
    button = page.get_by_role("button", name="Lớp bản đồ")
    button.tap()
    page.get_by_label(re.compile(r"Phân khu quy hoạch")).wait_for(state="visible")
    shot(tab, "overview-phone-layers-open")
    page.get_by_label(re.compile(r"Phân khu quy hoạch")).tap()
    page.wait_for_function(LOADED, arg="planning_zones")
    page.touchscreen.tap(PHONE[0] / 2, PHONE[1] - 120)  # a tap on the map (a ward here) folds the list again
    page.wait_for_function("() => !document.querySelector('.leaflet-control-layers-expanded')")
    assert tab.violations() == []


@pytest.mark.parametrize("tab", ["desktop"], indirect=True)
def test_overview_layer_control_is_open_on_desktops(tab: Tab, strict: str) -> None:
    page = load(tab, strict, "/maps/overview")
    assert page.locator(".leaflet-control-layers-expanded").count() == 1
    assert page.get_by_label(re.compile(r"Phân khu quy hoạch")).is_visible()


# --- every visible word in both languages ---------------------------------------------------------------

# Standards and symbols that are the same in both languages (names and codes from the data are marked
# translate="no" in the pages and not read).
SAME_IN_BOTH = re.compile(
    r"^(HueGIS|Huế|Thành phố Huế|OGC API|GeoJSON|CAP 1\.2|Atom|English|Tiếng Việt|Leaflet|MapLibre|HUE-…|×|★+|m|km"
    r"|[\d\s.,:/%()+\-−–—·→|]*(\s*k?m)?"
    r"|HueGIS; .*|.*(GSHHG|GeoNames|LegoCity|DiaPhan).*)$"
)
ENGLISH = re.compile(
    r"\b(the|and|of|report|reports|map|layers?|send|follow|click|choose|photo|loading|error|open|close|warning|zone)\b",
    re.I,
)
TEXTS = """() => {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === 3) { const t = node.textContent.trim(); if (t) out.push(t); return; }
    if (node.nodeType !== 1 || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'svg'].includes(node.tagName)) return;
    if (node.getAttribute('translate') === 'no') return;  // names and codes, the same in every language
    const style = getComputedStyle(node);
    if (node.tagName !== 'OPTION' && (style.display === 'none' || style.visibility === 'hidden')) return;
    for (const a of ['placeholder', 'aria-label', 'title', 'alt']) {
      if (node.getAttribute(a)) out.push(node.getAttribute(a).trim());
    }
    for (const child of node.childNodes) walk(child);
  };
  walk(document.body);
  for (const section of document.querySelectorAll('.panel-section, #details')) {
    if (section.hidden) { section.hidden = false; walk(section); section.hidden = true; }
  }
  return out;
}"""


@pytest.mark.parametrize("path", ["/portal", "/emergency"])
def test_every_visible_string_exists_in_both_languages(tab: Tab, strict: str, path: str, zones: ZoneMaker) -> None:
    zones.create(status="Exercise")
    try:
        vi = set(load(tab, strict, path).evaluate(TEXTS))
        en = set(load(tab, strict, f"{path}?lang=en").evaluate(TEXTS))
    finally:
        zones.cleanup()
    untranslated = sorted(t for t in vi & en if not SAME_IN_BOTH.match(t))
    assert untranslated == [], "the same text on the Vietnamese and the English page"
    english = sorted(t for t in vi if ENGLISH.search(t) and not SAME_IN_BOTH.match(t))
    assert english == [], "English words on the Vietnamese page"


# --- a fresh setup: no empty collection, a city that lived until today ----------------------------------


def test_hot_spots_say_computing_while_the_first_run_is_computed(
    tab: Tab, strict: str, client: httpx.Client, db: psycopg.Connection, loaded: Settings
) -> None:
    """No run yet and a session holding the run lock (the app's first-run job, in whichever process): the
    hot-spot endpoints answer 503 with Retry-After, the status says so, the analytics maps show a notice."""
    from geo.db import load_sql

    db.execute("DELETE FROM hotspot_runs")  # as after a fresh setup (their cells go with them)
    assert client.get("/api/hotspots/status").json() == {"state": "none", "computing": False, "latest_run": None,
                                                         "created_at": None, "retry_after_s": None}  # fmt: skip
    assert client.get("/api/hotspots/now").status_code == 404
    with psycopg.connect(loaded.conninfo(), autocommit=True) as holder:
        assert holder.execute(load_sql("hotspots/run_lock")).fetchone() == (True,)
        status = client.get("/api/hotspots/status").json()
        assert status["state"] == "computing" and status["retry_after_s"] == 60
        for path in ("/now", "/emerging", "/forecast", "/runs/latest", "/backtest/latest"):
            answer = client.get(f"/api/hotspots{path}")
            assert answer.status_code == 503 and answer.headers["Retry-After"] == "60", path
            assert answer.json()["code"] == "hotspots_computing" and "being computed" in answer.json()["detail"]
        admin = auth_helpers.staff_headers(loaded, "gis_admin")
        assert client.post("/api/hotspots/run", headers=admin, json={}).status_code == 409  # one run at a time
        assert "Computing hot spots" in client.get("/maps/disasters", params={"lang": "en"}).text
        page = load(tab, strict, "/maps/overview")
        notice = page.locator("[role=status].huegis-computing")
        assert notice.is_visible() and notice.inner_text().startswith("Đang tính điểm nóng")
        shot(tab, "maps-overview-computing-hot-spots")
        assert tab.violations() == []
    assert client.get("/api/hotspots/status").json()["state"] == "none"  # the lock went with its session
    assert "huegis-computing" not in client.get("/maps/disasters", params={"lang": "en"}).text


def test_a_fresh_setup_leaves_no_collection_empty(
    loaded: Settings, client: httpx.Client, db: psycopg.Connection
) -> None:
    """What `huegis setup` fills, and the app's first hot-spot run after it starts (the one-shot job, with a
    small run for the test city): the test waits for the job."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from geo.analytics.hotspot_run import RunParams, refresh_hotspots
    from geo.analytics.kpis import refresh_kpi_unit_month
    from geo.audit import Actor
    from geo.jobs import JobGroup
    from geo.registry import LAYERS

    refresh_kpi_unit_month(db)
    db.execute("DELETE FROM hotspot_runs")  # as after a fresh setup
    params = RunParams(period="month", cell_m=1500, origins=4, window=6, permutations=99)
    # As the app's lifespan schedules it, in a job group of this test's own (the suite's server leads its own).
    jobs = JobGroup(loaded.conninfo(), name=f"test-first-run-{os.getpid()}", retry_s=0.2)
    jobs.add_once("hotspots-first-run", lambda: refresh_hotspots(loaded.conninfo(), params=params,
                                                                 actor=Actor("test:setup", "system")))  # fmt: skip
    job = jobs.jobs["hotspots-first-run"]

    async def lead_until_done() -> None:
        leading = asyncio.create_task(jobs.run())
        while not (job.runs or job.failures):
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # a one-shot job is not repeated
        leading.cancel()

    with ThreadPoolExecutor(1) as thread:  # playwright's sync API holds this thread's event loop
        waiting = thread.submit(asyncio.run, lead_until_done())
        states = set()
        while not waiting.done():
            states.add(client.get("/api/hotspots/status").json()["state"])
        waiting.result()
    assert (job.runs, job.failures) == (1, 0) and states <= {"none", "computing", "ready"}
    assert client.get("/api/hotspots/status").json()["state"] == "ready"
    assert client.get("/api/hotspots/now").status_code == 200
    empty = [
        spec.id
        for spec in LAYERS
        if client.get(f"/ogc/collections/{spec.id}/items", params={"f": "json", "limit": 1}).json()["numberMatched"]
        == 0
    ]
    assert empty == []
    now = datetime.now(TZ)
    last_month_start = (now.replace(day=1) - timedelta(days=1)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    counts = db.execute(
        "SELECT count(*) FILTER (WHERE received_at >= %s AND received_at < date_trunc('month', %s)), "
        "count(*) FILTER (WHERE received_at >= %s) FROM citizen_reports",
        (last_month_start, now, now - timedelta(days=7)),
    ).fetchone()
    assert counts is not None and counts[0] > 0 and counts[1] > 0, counts
    past = db.execute(
        "SELECT count(*), bool_and(expires < now()), bool_and(synthetic), "
        "min((SELECT count(*) FROM disaster_messages m WHERE m.zone_id = z.id)) "
        "FROM disaster_zones z WHERE source LIKE 'HueGIS: warning bulletins%%'"
    ).fetchone()
    assert past is not None and past[0] > 50 and past[1:3] == (True, True) and past[3] >= 2
