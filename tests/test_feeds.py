"""Feeds: CAP 1.2 (validated against the OASIS XSD), the Atom index, the GeoJSON feed, the emergency page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from disaster_fixtures import ZoneMaker, now
from lxml import etree

CAP_XSD = Path(__file__).resolve().parent / "specs" / "cap" / "cap12.xsd"  # vendored: tests/specs/README.md
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
ATOM = {"a": "http://www.w3.org/2005/Atom"}
CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")


@pytest.fixture(scope="module")
def cap_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 schema (vendored in tests/specs)."""
    return etree.XMLSchema(etree.parse(str(CAP_XSD)))


def cap_document(client: httpx.Client, zone_id: int, schema: etree.XMLSchema) -> etree._Element:
    response = client.get(f"/feeds/cap/{zone_id}.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/cap+xml")
    doc = etree.fromstring(response.content)
    if not schema.validate(doc):
        pytest.fail(f"CAP document of zone {zone_id} is invalid: {schema.error_log}")
    return doc


def text(doc: etree._Element, path: str) -> list[str]:
    return [e.text for e in doc.xpath(path, namespaces=CAP)]


def test_alert_update_cancel_validate_against_the_cap_schema(
    client: httpx.Client, zones: ZoneMaker, db: psycopg.Connection, cap_schema: etree.XMLSchema
) -> None:
    zone = zones.create()
    alert = cap_document(client, zone["id"], cap_schema)
    assert text(alert, "/cap:alert/cap:msgType") == ["Alert"]
    assert text(alert, "/cap:alert/cap:references") == []
    assert text(alert, "/cap:alert/cap:status") == ["Actual"]
    assert text(alert, "/cap:alert/cap:scope") == ["Public"]
    times = text(alert, "//cap:sent") + text(alert, "//cap:onset") + text(alert, "//cap:expires")
    assert times and all(CAP_TIME.match(t) for t in times), times
    assert text(alert, "//cap:info/cap:language") == ["vi-VN", "en-US"]
    assert text(alert, "//cap:info/cap:headline") == [
        "Cảnh báo lũ trên sông Hương",
        "Flood warning on the Perfume River",
    ]
    polygons = text(alert, "//cap:info[1]/cap:area/cap:polygon")
    assert len(polygons) == 1
    pairs = polygons[0].split(" ")
    assert pairs[0] == pairs[-1] and len(pairs) >= 4
    lat, lon = map(float, pairs[0].split(","))
    assert 16.4 < lat < 16.5 and 107.5 < lon < 107.6, "CAP polygons are lat,lon"
    wards = {
        r[0]
        for r in db.execute(
            "SELECT a.code FROM admin_units a, disaster_zones z WHERE z.id = %s AND a.level <> 'city' "
            "AND ST_Intersects(a.geom, z.geom)",
            (zone["id"],),
        ).fetchall()
    }
    assert wards and set(text(alert, "//cap:info[1]/cap:area/cap:geocode/cap:value")) == wards
    first = (text(alert, "/cap:alert/cap:identifier")[0], text(alert, "/cap:alert/cap:sent")[0])

    client.patch(f"/api/disasters/{zone['id']}", json={"urgency": "Expected"}, headers=zones.headers)
    update = cap_document(client, zone["id"], cap_schema)
    assert text(update, "/cap:alert/cap:msgType") == ["Update"]
    sender = text(update, "/cap:alert/cap:sender")[0]
    assert text(update, "/cap:alert/cap:references") == [f"{sender},{first[0]},{first[1]}"]
    assert text(update, "//cap:info/cap:urgency") == ["Expected", "Expected"]
    second = (text(update, "/cap:alert/cap:identifier")[0], text(update, "/cap:alert/cap:sent")[0])
    assert second[0] != first[0]

    client.post(f"/api/disasters/{zone['id']}/cancel", json={"note": "Nước đã rút"}, headers=zones.headers)
    cancel = cap_document(client, zone["id"], cap_schema)
    assert text(cancel, "/cap:alert/cap:msgType") == ["Cancel"]
    assert text(cancel, "/cap:alert/cap:references") == [
        f"{sender},{first[0]},{first[1]} {sender},{second[0]},{second[1]}"
    ]
    assert text(cancel, "/cap:alert/cap:note") == ["Nước đã rút"]


def test_exercise_and_multipolygon_zones_validate(
    client: httpx.Client, zones: ZoneMaker, cap_schema: etree.XMLSchema
) -> None:
    two = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[107.57, 16.46], [107.58, 16.46], [107.58, 16.47], [107.57, 16.46]]],
            [[[107.60, 16.46], [107.61, 16.46], [107.61, 16.47], [107.60, 16.46]]],
        ],
    }
    zone = zones.create(geometry=two, status="Exercise", instruction_vi=None, instruction_en=None, hazard="storm_surge")
    doc = cap_document(client, zone["id"], cap_schema)
    assert text(doc, "/cap:alert/cap:status") == ["Exercise"]
    assert len(text(doc, "//cap:info[2]/cap:area/cap:polygon")) == 2
    assert text(doc, "//cap:info[2]/cap:event") == ["Storm surge"]
    assert client.get("/feeds/cap/987654321.xml").status_code == 404


def _sql_active(db: psycopg.Connection, status: str) -> set[int]:
    rows = db.execute(
        "SELECT id FROM disaster_zones WHERE onset <= now() AND now() < expires AND cancelled_at IS NULL "
        "AND status = %s",
        (status,),
    ).fetchall()
    return {r[0] for r in rows}


def _atom_zone_ids(client: httpx.Client, **params: str) -> list[int]:
    response = client.get("/feeds/cap.atom", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)  # raises unless well-formed
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.xpath("a:id", namespaces=ATOM) and feed.xpath("a:updated", namespaces=ATOM)
    hrefs = feed.xpath("a:entry/a:link[@type='application/cap+xml']/@href", namespaces=ATOM)
    assert len(hrefs) == len(feed.xpath("a:entry", namespaces=ATOM))
    return [int(re.search(r"/feeds/cap/(\d+)\.xml$", h).group(1)) for h in hrefs]  # type: ignore[union-attr]


def test_atom_lists_exactly_the_active_alerts(client: httpx.Client, zones: ZoneMaker, db: psycopg.Connection) -> None:
    start = now()
    active = zones.create()
    updated = zones.create(severity="Moderate")
    client.patch(f"/api/disasters/{updated['id']}", json={"severity": "Severe"}, headers=zones.headers)
    cancelled = zones.create()
    client.post(f"/api/disasters/{cancelled['id']}/cancel", headers=zones.headers)
    expired = zones.create(
        onset=(start - timedelta(days=2)).isoformat(), expires=(start - timedelta(days=1)).isoformat()
    )
    future = zones.create(
        onset=(start + timedelta(days=1)).isoformat(), expires=(start + timedelta(days=2)).isoformat()
    )
    exercise = zones.create(status="Exercise")

    ids = _atom_zone_ids(client)
    assert len(ids) == len(set(ids))
    assert set(ids) == _sql_active(db, "Actual")
    assert {active["id"], updated["id"]} <= set(ids)
    assert not {cancelled["id"], expired["id"], future["id"], exercise["id"]} & set(ids)
    assert exercise["id"] in _atom_zone_ids(client, status="Exercise")
    assert set(_atom_zone_ids(client, status="Exercise")) == _sql_active(db, "Exercise")
    english = client.get("/feeds/cap.atom", params={"lang": "en"}).text
    assert "Flood warning on the Perfume River" in english
    assert client.get("/feeds/cap.atom", params={"status": "Bogus"}).status_code == 400


def test_geojson_feed_lists_the_active_zones(client: httpx.Client, zones: ZoneMaker, db: psycopg.Connection) -> None:
    active = zones.create()
    cancelled = zones.create()
    client.post(f"/api/disasters/{cancelled['id']}/cancel", headers=zones.headers)
    response = client.get("/feeds/disasters.geojson")
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    ids = {f["id"] for f in body["features"]}
    expected = _sql_active(db, "Actual") | _sql_active(db, "Exercise") | _sql_active(db, "Test")
    expected |= _sql_active(db, "System") | _sql_active(db, "Draft")
    assert ids == expected
    assert active["id"] in ids and cancelled["id"] not in ids
    feature = next(f for f in body["features"] if f["id"] == active["id"])
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["cap"] == f"/feeds/cap/{active['id']}.xml"
    assert feature["properties"]["onset"].endswith("+07:00")
    later = client.get("/feeds/disasters.geojson", params={"at": "2099-01-01T00:00:00+07:00"}).json()
    assert active["id"] not in {f["id"] for f in later["features"]}


def test_emergency_page_in_both_languages_with_local_assets(client: httpx.Client, zones: ZoneMaker) -> None:
    zone = zones.create()
    vi = client.get("/emergency")
    assert vi.status_code == 200
    assert "Cảnh báo thiên tai đang hiệu lực" in vi.text and "Cảnh báo lũ trên sông Hương" in vi.text
    assert f'id="zone-{zone["id"]}"' in vi.text and "Cơ sở y tế" in vi.text
    en = client.get("/emergency", params={"lang": "en"})
    assert "Active disaster warnings" in en.text and "Flood warning on the Perfume River" in en.text
    assert client.get("/emergency", params={"lang": "fr"}).status_code == 422
    # Works offline: every script and stylesheet comes from this server.
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', vi.text)
    assert assets and all(a.startswith(("/static/", "/ogc/static/")) for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
