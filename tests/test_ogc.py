"""OGC API Features through pygeoapi, mounted at /ogc: collections, items, bbox, paging, errors."""

from __future__ import annotations

import csv
import io
import logging
import re
import sys
from html import unescape

import httpx
import psycopg
import pytest
from psycopg import sql
from pygeoapi.provider.base import ProviderInvalidQueryError, ProviderQueryError

from geo.ogc.provider import ClientErrorsAsInfo
from geo.registry import LAYERS, REGISTRY
from geo.settings import Settings

# 1 x 1 km around the Imperial City (Đại Nội).
CENTRE_BBOX = (107.572, 16.463, 107.582, 16.473)


def sql_count(db: psycopg.Connection, layer_id: str, bbox: tuple[float, ...] | None = None) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(layer_id))
    if bbox:
        query += sql.SQL(" WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))")
    row = db.execute(query, bbox).fetchone()
    assert row is not None
    return row[0]


def test_collections_list_every_registry_layer(client: httpx.Client) -> None:
    response = client.get("/ogc/collections", params={"f": "json"})
    assert response.status_code == 200
    ids = {c["id"] for c in response.json()["collections"]}
    assert ids == set(REGISTRY)


@pytest.mark.parametrize("layer_id", [spec.id for spec in LAYERS])
def test_items_are_geojson_with_the_loaded_count(client: httpx.Client, db: psycopg.Connection, layer_id: str) -> None:
    response = client.get(f"/ogc/collections/{layer_id}/items", params={"f": "json", "limit": 5})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in ("application/geo+json", "application/json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == sql_count(db, layer_id)
    assert body["numberReturned"] == min(5, body["numberMatched"])
    spec = REGISTRY[layer_id]
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == spec.geometry_type
        assert set(feature["properties"]) <= set(spec.fields), "only the registry's public fields are published"


def test_private_reporter_fields_are_never_published(client: httpx.Client) -> None:
    schema = client.get("/ogc/collections/citizen_reports/queryables", params={"f": "json"}).json()
    assert not {"full_name", "phone", "email", "device_id", "description"} & set(schema["properties"])


def test_unpublished_columns_cannot_be_probed(client: httpx.Client, db: psycopg.Connection) -> None:
    """Filters, CQL and sorting on a column that is not published (the free text) reveal nothing."""
    row = db.execute("SELECT description FROM citizen_reports ORDER BY id LIMIT 1").fetchone()
    assert row is not None
    total = sql_count(db, "citizen_reports")
    items = "/ogc/collections/citizen_reports/items"
    for f in ("json", "html"):  # refused like a name that is no column at all: nothing to tell them apart
        probe = client.get(items, params={"f": f, "limit": 1, "description": row[0]})
        missing = client.get(items, params={"f": f, "limit": 1, "no_such_column": row[0]})
        assert probe.status_code == missing.status_code == 400
        assert probe.json()["description"].replace("description", "X") == missing.json()["description"].replace(
            "no_such_column", "X"
        )
    assert client.get(items, params={"f": "json"}).json()["numberMatched"] == total
    cql = client.get(items, params={"f": "json", "filter": "description LIKE '%a%'"})
    assert cql.status_code == 400 and "description" in cql.text
    assert client.get(items, params={"f": "json", "filter": "status = 'closed'", "limit": 1}).status_code == 200
    assert client.get(items, params={"f": "json", "sortby": "description"}).status_code == 400


@pytest.mark.parametrize("layer_id", ["admin_units", "places", "health_facilities", "land_parcels"])
def test_bbox_filter_matches_postgis(client: httpx.Client, db: psycopg.Connection, layer_id: str) -> None:
    bbox = ",".join(map(str, CENTRE_BBOX))
    body = client.get(f"/ogc/collections/{layer_id}/items", params={"f": "json", "bbox": bbox, "limit": 10000}).json()
    expected = sql_count(db, layer_id, CENTRE_BBOX)
    assert expected > 0, "the test box should hold features"
    assert body["numberMatched"] == expected
    assert len(body["features"]) == expected


def test_paging_follows_next_links_under_the_prefix(client: httpx.Client, db: psycopg.Connection) -> None:
    url: str | None = "/ogc/collections/places/items?f=json&limit=100"
    seen: list[int] = []
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        for href in nxt:
            assert "/ogc/collections/places/items" in href, href
        url = nxt[0] if nxt and body["features"] else None
    assert len(seen) == len(set(seen)) == sql_count(db, "places")


def test_unknown_collection_is_404_with_a_message(client: httpx.Client) -> None:
    response = client.get("/ogc/collections/no_such_layer/items", params={"f": "json"})
    assert response.status_code == 404
    assert "not found" in response.json()["description"].lower()


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "107.6,16.5,107.5"])
def test_malformed_bbox_is_400(client: httpx.Client, bbox: str) -> None:
    response = client.get("/ogc/collections/places/items", params={"f": "json", "bbox": bbox})
    assert response.status_code == 400
    assert "bbox" in response.json()["description"].lower()


def test_landing_page_links_carry_the_prefix(client: httpx.Client, server: str) -> None:
    body = client.get("/ogc/", params={"f": "json"}).json()
    hrefs = [link["href"] for link in body["links"] if link["href"].startswith("http://127.0.0.1")]
    assert {"self", "service-desc", "data"} <= {link["rel"] for link in body["links"]}
    assert hrefs and all(href.startswith(f"{server}/ogc") for href in hrefs), hrefs


@pytest.mark.parametrize("f", ["json", "html", "jsonld"])
def test_unknown_query_parameters_are_a_400_naming_them(client: httpx.Client, f: str) -> None:
    """OGC API Features /req/core/query-param-unknown: the verifier's ``?ooga=booga``."""
    response = client.get("/ogc/collections/schools/items", params={"f": f, "ooga": "booga", "limit": 2, "zz": "1"})
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameterValue"
    assert "ooga, zz" in response.json()["description"]


def test_queryable_property_filters_stay_allowed(client: httpx.Client, db: psycopg.Connection) -> None:
    row = db.execute("SELECT count(*) FROM schools WHERE school_level = 'primary'").fetchone()
    assert row and row[0] > 0
    for extra in ({}, {"lang": "en"}):  # our fast path, and pygeoapi's
        params = {"f": "json", "school_level": "primary", **extra}
        response = client.get("/ogc/collections/schools/items", params=params)
        assert response.status_code == 200 and response.json()["numberMatched"] == row[0]


def test_html_item_lists_are_short_and_json_pages_long(client: httpx.Client, db: psycopg.Connection) -> None:
    """People read 50 items a page; QGIS and GDAL get 1,000 (kpi_unit_month made a 56 MB page)."""
    html = client.get("/ogc/collections/places/items", params={"f": "html"})
    assert html.status_code == 200 and '<html lang="en" dir="ltr">' in html.text
    assert re.search(rf"<title>\s*{REGISTRY['places'].title}\s+— HueGIS", html.text), "a title naming the layer"
    assert "limit=50" in html.text and "limit=1000" not in html.text
    assert re.search(r'<option value="50">50 \(default\)</option>', html.text), "the limit picker's default is 50"
    browser = client.get("/ogc/collections/places/items", headers={"Accept": "text/html"})
    assert browser.status_code == 200 and "limit=50" in browser.text
    places = sql_count(db, "places")
    assert places > 50
    page = client.get("/ogc/collections/places/items", params={"f": "json"}).json()
    assert page["numberReturned"] == min(1000, places)
    assert "limit=20" in client.get("/ogc/collections/places/items", params={"f": "html", "limit": 20}).text


def test_openapi_document_resolves_every_ref_offline(client: httpx.Client) -> None:
    """Every $ref of /ogc/openapi resolves inside the document: no schemas.opengis.net, no GitHub."""
    from referencing import Registry, Resource
    from referencing.exceptions import Unresolvable

    response = client.get("/ogc/openapi", params={"f": "json"})
    assert response.status_code == 200
    document = response.json()
    refs: set[str] = set()
    stack: list = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert len(refs) > 20
    # A registry holding only this document, with no way to fetch anything else.
    resolver = Registry().with_resource("urn:ogc", Resource.opaque(document)).resolver("urn:ogc")
    unresolved = []
    for ref in sorted(refs):
        try:
            resolver.lookup(ref)
        except Unresolvable:
            unresolved.append(ref)
    assert unresolved == []
    assert "vendorSpecificParameters" not in response.text


def test_csv_rows_start_with_the_feature_id(client: httpx.Client) -> None:
    """pygeoapi's CSV had the properties only: a row could not be traced back to its feature."""
    id_field = REGISTRY["schools"].id_field
    answer = client.get("/ogc/collections/schools/items", params={"f": "csv", "limit": 5})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 5 and list(rows[0])[:3] == ["x", "y", id_field]  # pygeoapi puts a point's x, y first
    for row in rows:
        feature = client.get(f"/ogc/collections/schools/items/{row[id_field]}", params={"f": "json"})
        assert feature.status_code == 200 and feature.json()["properties"]["name"] == row["name"]


def test_a_bad_cql_filter_is_a_400_naming_the_problem(client: httpx.Client, loaded: Settings) -> None:
    log = loaded.pygeoapi_openapi.parent / "uvicorn.log"
    start = log.stat().st_size if log.exists() else 0
    items = "/ogc/collections/citizen_reports/items"
    for f in ("json", "html"):
        answer = client.get(items, params={"f": f, "filter": "category='garbage' AND pg_sleep(5)=1"})
        assert answer.status_code == 400
        assert "filter: unknown property 'pg_sleep'" in unescape(answer.text), answer.text
    if log.exists():  # the server's log: no traceback at ERROR for the client's mistake
        with log.open(errors="replace") as text:
            text.seek(start)
            assert "Traceback" not in text.read()


def test_client_errors_are_logged_as_info_without_traceback() -> None:
    record = logging.LogRecord("pygeoapi.api", logging.ERROR, __file__, 1, "query error", None, None)
    try:
        raise ProviderInvalidQueryError(user_msg="filter: unknown property 'x'")
    except ProviderInvalidQueryError:
        record.exc_info = sys.exc_info()
    assert ClientErrorsAsInfo().filter(record) and record.levelno == logging.INFO and record.exc_info is None
    server_side = logging.LogRecord("pygeoapi.api", logging.ERROR, __file__, 1, "boom", None, (None, None, None))
    try:
        raise ProviderQueryError("connection lost")
    except ProviderQueryError:
        server_side.exc_info = sys.exc_info()
    assert ClientErrorsAsInfo().filter(server_side) and server_side.levelno == logging.ERROR and server_side.exc_info


@pytest.mark.parametrize("f", ["", "json", "html", "jsonld", "xml"])
@pytest.mark.parametrize("sortby", ["", "+", "-", ",", "school_level,"])
def test_an_empty_sort_key_is_a_400_in_every_format(client: httpx.Client, f: str, sortby: str) -> None:
    """Regression (found by the fuzzer in CI): ``?sortby=&f=`` went to pygeoapi, which failed with a 500."""
    response = client.get("/ogc/collections/schools/items", params={"f": f, "sortby": sortby})
    assert response.status_code == 400, response.text[:300]
    assert "sortby" in response.json()["description"]


@pytest.mark.parametrize("f", ["", "json", "html", "jsonld"])
def test_an_empty_format_or_limit_is_not_a_server_error(client: httpx.Client, f: str) -> None:
    assert client.get("/ogc/collections/schools/items", params={"f": f}).status_code < 500
    response = client.get("/ogc/collections/schools/items", params={"f": f, "limit": ""})
    assert response.status_code == 400 and "limit" in response.json()["description"], response.text[:300]
