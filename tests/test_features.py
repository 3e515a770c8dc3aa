"""The OGC API Features fast path (api/routers/ogc.py): the same answers as pygeoapi.

pygeoapi still answers any request with ``lang``: that is how these tests ask it for the reference
response on the same server and data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import psycopg
import pytest
from disaster_fixtures import ZoneMaker, staff_headers, zone_maker

from geo.settings import Settings

CENTRE_BBOX = "107.572,16.463,107.582,16.473"  # 1 x 1 km around the Imperial City
SMALL_BBOX = "107.575,16.466,107.579,16.470"  # ~400 m


def by_pygeoapi(response: httpx.Response) -> bool:
    """pygeoapi answered, not the fast path (which names itself in Server-Timing; pygeoapi's banner is removed)."""
    return "ogc-fast-path" not in response.headers.get("server-timing", "")


def ours(client: httpx.Client, path: str, **params: Any) -> httpx.Response:
    response = client.get(f"/ogc/collections/{path}", params={"f": "json", **params})
    assert not by_pygeoapi(response), "answered by the fast path, not pygeoapi"
    return response


def pygeoapi(client: httpx.Client, path: str, **params: Any) -> httpx.Response:
    response = client.get(f"/ogc/collections/{path}", params={"f": "json", **params, "lang": "en"})
    assert by_pygeoapi(response)
    return response


def normalised(value: Any) -> Any:
    """Times as instants (PostgreSQL writes +07:00, pygeoapi +00:00), numbers as floats."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str) and len(value) > 10 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def assert_same_geometry(a: Any, b: Any) -> None:
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same_geometry(x, y)
    elif isinstance(a, float | int):
        assert math.isclose(a, b, abs_tol=1e-6), (a, b)
    else:
        assert a == b


def assert_same_features(mine: list[dict], theirs: list[dict]) -> None:
    assert [f["id"] for f in mine] == [f["id"] for f in theirs]
    for a, b in zip(mine, theirs, strict=True):
        assert a["type"] == b["type"] == "Feature"
        assert normalised(a["properties"]) == normalised(b["properties"]), a["id"]
        if b["geometry"] is None:
            assert a["geometry"] is None
        else:
            assert a["geometry"]["type"] == b["geometry"]["type"]
            assert_same_geometry(a["geometry"]["coordinates"], b["geometry"]["coordinates"])


def links(body: dict) -> list[tuple[str, str, str]]:
    """(rel, type, href) of every link, pygeoapi's ``lang=en`` removed from its hrefs."""
    return [(link["rel"], link["type"], link["href"].replace("&lang=en", "")) for link in body["links"]]


# --- the same answers as pygeoapi ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer_id", "params"),
    [
        ("places", {"limit": 50}),
        ("places", {"bbox": CENTRE_BBOX, "limit": 1000}),
        ("places", {"limit": 20, "offset": 680}),
        ("admin_units", {"limit": 5}),
        ("roads", {}),
        # Areas tie: the id makes the order total (pygeoapi's order among ties is the plan's).
        ("land_parcels", {"bbox": CENTRE_BBOX, "sortby": "-area_m2,id", "limit": 40, "offset": 10}),
        ("construction_permits", {"datetime": "2024-01-01/..", "limit": 20}),
        ("construction_permits", {"status": "issued", "skipGeometry": "true", "limit": 15}),
        ("citizen_reports", {"sortby": "code", "limit": 200}),
        ("citizen_reports", {"bbox": CENTRE_BBOX, "sortby": "code", "limit": 100, "offset": 50}),
        ("citizen_reports", {"category": "garbage", "sortby": "-received_at,code", "limit": 30}),
        ("citizen_reports", {"datetime": "2024-01-01T00:00:00Z/2024-03-01T00:00:00Z", "sortby": "code"}),
        ("citizen_reports", {"properties": "category,status", "skipGeometry": "true", "sortby": "code", "limit": 9}),
        ("citizen_reports", {"synthetic": "true", "sortby": "code", "limit": 3}),
    ],
)
def test_items_equal_pygeoapi(client: httpx.Client, layer_id: str, params: dict[str, Any]) -> None:
    mine, theirs = ours(client, f"{layer_id}/items", **params), pygeoapi(client, f"{layer_id}/items", **params)
    assert mine.status_code == theirs.status_code == 200, mine.text
    a, b = mine.json(), theirs.json()
    assert a["type"] == "FeatureCollection"
    assert (a["numberMatched"], a["numberReturned"]) == (b["numberMatched"], b["numberReturned"])
    assert a["numberReturned"] > 0, "the case should return features"
    assert_same_features(a["features"], b["features"])
    if "sortby" in params:
        assert links(a) == links(b)
    else:  # the next page by key (after the last id: the default order is the key's), where pygeoapi counts
        last = f"after={a['features'][-1]['id']}"
        assert links(a) == [(r, t, re.sub(r"offset=\d+", last, h) if r == "next" else h) for r, t, h in links(b)]
    assert datetime.fromisoformat(a["timeStamp"])


@pytest.mark.parametrize("layer_id", ["places", "citizen_reports", "land_parcels"])
def test_item_equals_pygeoapi(client: httpx.Client, layer_id: str) -> None:
    some = ours(client, f"{layer_id}/items", limit=3, sortby="-" + ("code" if layer_id == "citizen_reports" else "id"))
    for feature in some.json()["features"]:
        mine, theirs = (
            ours(client, f"{layer_id}/items/{feature['id']}"),
            pygeoapi(client, f"{layer_id}/items/{feature['id']}"),
        )
        assert mine.status_code == theirs.status_code == 200
        a, b = mine.json(), theirs.json()
        assert_same_features([a], [b])
        assert str(a["next"]) == str(b["next"]) and str(a["prev"]) == str(b["prev"])
        assert [(rel, kind, href.replace("?lang=en&", "?")) for rel, kind, href in links(a)] == [
            (rel, kind, href.replace("?lang=en&", "?")) for rel, kind, href in links(b)
        ]


def page_through(client: httpx.Client, first: httpx.Response) -> list[Any]:
    """Every feature id, following ``next`` links (as GDAL does) until a page comes back empty."""
    ids: list[Any] = []
    response = first
    while True:
        assert response.status_code == 200
        body = response.json()
        ids += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt or not body["features"]:
            return ids
        response = client.get(nxt[0])


def test_paging_to_the_end_gives_pygeoapi_features(client: httpx.Client, db: psycopg.Connection) -> None:
    params = {"bbox": CENTRE_BBOX, "limit": 10}
    mine = page_through(client, ours(client, "citizen_reports/items", **params))
    theirs = page_through(client, pygeoapi(client, "citizen_reports/items", **params))
    row = db.execute(
        "SELECT count(*) FROM citizen_reports WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
        [float(v) for v in CENTRE_BBOX.split(",")],
    ).fetchone()
    assert row is not None and row[0] > 20, "the box should hold several pages"
    assert len(mine) == len(set(mine)) == row[0]
    assert set(mine) == set(theirs)


# --- datetime on an interval layer ---------------------------------------------------------------


@pytest.fixture
def zones(client: httpx.Client, loaded: Settings, db: psycopg.Connection) -> Iterator[ZoneMaker]:
    yield from zone_maker(client, staff_headers(loaded), db)


def test_datetime_on_disaster_zones_selects_the_active_zones_like_pygeoapi(
    client: httpx.Client, zones: ZoneMaker
) -> None:
    a = zones.create(onset="2031-01-01T00:00:00+07:00", expires="2031-01-01T12:00:00+07:00")
    b = zones.create(onset="2031-01-01T06:00:00+07:00", expires="2031-01-02T00:00:00+07:00")
    for value, expected in {
        "2031-01-01T00:00:00+07:00": {a["id"]},
        "2031-01-01T08:00:00+07:00": {a["id"], b["id"]},
        "2031-01-01T12:00:00+07:00": {b["id"]},
        "2031-01-01T12:30:00+07:00/2031-01-01T13:00:00+07:00": {b["id"]},
        "../2031-01-01T01:00:00+07:00": {a["id"]},
        "2031-01-01T05:00:00Z/..": {b["id"]},
    }.items():
        mine = ours(client, "disaster_zones/items", datetime=value, limit=10000).json()
        theirs = pygeoapi(client, "disaster_zones/items", datetime=value, limit=10000).json()
        assert {f["id"] for f in mine["features"]} & {a["id"], b["id"]} == expected, value
        assert mine["numberMatched"] == theirs["numberMatched"]
        assert_same_features(mine["features"], theirs["features"])


# --- bad values, fall-through --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer_id", "params", "parameter"),
    [
        ("places", {"limit": "x"}, "limit"),
        ("places", {"limit": "0"}, "limit"),
        ("places", {"offset": "x"}, "offset"),
        ("places", {"offset": "-5"}, "offset"),
        ("places", {"offset": str(2**63)}, "offset"),
        ("places", {"bbox": "1,2,3"}, "bbox"),
        ("places", {"bbox": "a,b,c,d"}, "bbox"),
        ("places", {"bbox": "107.5,nan,107.6,16.5"}, "bbox"),
        ("places", {"bbox": "107.5,16.5,107.6,16.4"}, "bbox"),
        ("places", {"datetime": "2024-01-01"}, "datetime"),  # places has no time
        ("citizen_reports", {"datetime": "not-a-time"}, "datetime"),
        ("citizen_reports", {"datetime": "2024-01-01/2024-02-01/2024-03-01"}, "datetime"),
        ("disaster_zones", {"datetime": "yesterday/.."}, "datetime"),
        ("citizen_reports", {"sortby": "nope"}, "sortby"),
        ("citizen_reports", {"sortby": "description"}, "sortby"),  # a column, not published
        ("citizen_reports", {"sortby": ""}, "sortby"),
        ("citizen_reports", {"properties": "nope"}, "properties"),
        ("citizen_reports", {"properties": "category,description"}, "properties"),  # exists, unpublished
        ("citizen_reports", {"rating": "five"}, "rating"),
        ("citizen_reports", {"synthetic": "maybe"}, "synthetic"),
        ("citizen_reports", {"received_at": "yesterday"}, "received_at"),
        ("places", {"geonames_id": "99999999999999999999"}, "geonames_id"),
    ],
)
def test_bad_values_are_400_naming_the_parameter(
    client: httpx.Client, layer_id: str, params: dict[str, str], parameter: str
) -> None:
    response = ours(client, f"{layer_id}/items", **params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith(f"{parameter}:"), body


@pytest.mark.parametrize(
    ("layer_id", "fid"), [("places", "abc"), ("places", "1.5"), ("places", "0"), ("citizen_reports", "HUE-NOPE")]
)
def test_unknown_or_mistyped_item_id_is_404(client: httpx.Client, layer_id: str, fid: str) -> None:
    response = ours(client, f"{layer_id}/items/{fid}")
    assert response.status_code == 404  # pygeoapi answers 500 to "abc" on an integer key
    assert response.json()["code"] == "NotFound"


@pytest.mark.parametrize(
    ("path", "params", "headers"),
    [
        ("places/items", {"f": "html"}, {}),
        ("places/items", {"f": "jsonld", "limit": 2}, {}),
        ("places/items", {"filter": "name LIKE 'Huế%'"}, {}),
        ("places/items", {"resulttype": "hits"}, {}),
        ("places/items", {"bbox": CENTRE_BBOX, "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, {}),
        ("places/items", {}, {"Accept": "text/html"}),
        ("places/items", {"lang": "vi"}, {}),
        ("places/items/1", {"f": "html"}, {}),
        ("no_such_layer/items", {}, {}),
    ],
)
def test_what_the_fast_path_does_not_serve_goes_to_pygeoapi(
    client: httpx.Client, path: str, params: dict[str, Any], headers: dict[str, str]
) -> None:
    response = client.get(f"/ogc/collections/{path}", params=params, headers=headers)
    assert by_pygeoapi(response)
    assert response.status_code in (200, 400, 404)


def test_geojson_and_accept_json_are_served(client: httpx.Client) -> None:
    geojson = ours(client, "places/items", f="geojson", limit=1)
    assert geojson.headers["content-type"] == "application/geo+json"
    plain = client.get("/ogc/collections/places/items", params={"limit": 1}, headers={"Accept": "application/json"})
    assert not by_pygeoapi(plain)
    assert plain.json()["numberReturned"] == 1


def test_vietnamese_clients_get_the_vietnamese_title(client: httpx.Client) -> None:
    vi = {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}
    mine = client.get("/ogc/collections/places/items", params={"f": "json", "limit": 1}, headers=vi)
    theirs = pygeoapi(client, "places/items", limit=1)  # English
    reference = client.get("/ogc/collections/places/items", params={"f": "json", "limit": 1, "lang": "vi"})
    assert not by_pygeoapi(mine)
    assert mine.headers["content-language"] == reference.headers["content-language"] == "vi-VN"
    title = {link["rel"]: link["title"] for link in mine.json()["links"]}["collection"]
    assert title == {link["rel"]: link["title"] for link in reference.json()["links"]}["collection"] == "Địa danh"
    assert title != {link["rel"]: link["title"] for link in theirs.json()["links"]}["collection"]


# --- numberMatched follows writes at once --------------------------------------------------------


def test_a_new_row_changes_number_matched_immediately(client: httpx.Client, db: psycopg.Connection) -> None:
    def matched(**params: Any) -> int:
        return ours(client, "citizen_reports/items", limit=1, **params).json()["numberMatched"]

    before, before_box = matched(), matched(bbox=SMALL_BBOX)
    assert matched() == before  # now from the count cache
    row = db.execute(
        """INSERT INTO citizen_reports (code, category, description, channel, status, priority, responsible_level,
                                        department, synthetic, geom)
           SELECT 'HUE-FEATTEST', category, description, channel, status, priority, responsible_level, department,
                  synthetic, ST_SetSRID(ST_MakePoint(107.577, 16.468), 4326)
           FROM citizen_reports LIMIT 1
           RETURNING id"""
    ).fetchone()
    assert row is not None
    try:
        assert (matched(), matched(bbox=SMALL_BBOX)) == (before + 1, before_box + 1)
    finally:
        db.execute("DELETE FROM citizen_reports WHERE code = 'HUE-FEATTEST'")
    assert (matched(), matched(bbox=SMALL_BBOX)) == (before, before_box)
