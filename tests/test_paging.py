"""Paging at scale on the OGC fast path: numberMatched past a threshold, and ``next`` links by key.

Real clients read whole layers through the keyset links: GDAL's OAPIF driver (ogr2ogr) and OWSLib,
with and without a bbox, on the suite's server and on one that counts no more than 100 matches.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import psycopg
import pytest
from app_server import app_server
from owslib.ogcapi.features import Features

from geo.settings import Settings

CENTRE_BBOX = "107.572,16.463,107.582,16.473"  # 1 x 1 km around the Imperial City: ~75 test reports
COUNT_MAX = 100  # the few-counts server's HUEGIS_EXACT_COUNT_MAX: below the test history (3,000 reports)
ITEMS = "/ogc/collections/citizen_reports/items"


@pytest.fixture(scope="module")
def few_counts(loaded: Settings) -> Iterator[str]:
    """Our app counting numberMatched only where the planner expects at most COUNT_MAX matches."""
    env = {
        **os.environ,
        "HUEGIS_DB_NAME": loaded.db_name,
        "HUEGIS_PYGEOAPI_OPENAPI": str(loaded.pygeoapi_openapi),
        "HUEGIS_EXACT_COUNT_MAX": str(COUNT_MAX),
    }
    with app_server(env, loaded.pygeoapi_openapi.parent / "uvicorn-few-counts.log") as app:
        yield app.url


def codes(db: psycopg.Connection, bbox: str | None = None) -> list[str]:
    """The report codes the database holds (in the box)."""
    if bbox is None:
        return [row[0] for row in db.execute("SELECT code FROM citizen_reports")]
    box = [float(v) for v in bbox.split(",")]
    query = "SELECT code FROM citizen_reports WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
    return [row[0] for row in db.execute(query, box)]


def next_href(body: dict) -> str | None:
    return next((link["href"] for link in body["links"] if link["rel"] == "next"), None)


def walk(client: httpx.Client, url: str) -> tuple[list[str], list[dict]]:
    """Every feature id following ``next`` links until a page comes back short; the pages' bodies."""
    ids: list[str] = []
    bodies: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append(body)
        ids += [f["id"] for f in body["features"]]
        url = next_href(body) if body["features"] else None
    return ids, bodies


# --- numberMatched past the threshold ------------------------------------------------------------


def test_past_the_threshold_number_matched_is_left_out_unless_asked(few_counts: str, db: psycopg.Connection) -> None:
    total = len(codes(db))
    assert total > 10 * COUNT_MAX
    # The estimate is the planner's: statistics as ANALYZE (or autovacuum, past 50 changed rows) leaves them.
    db.execute("ANALYZE dams")
    db.execute("ANALYZE citizen_reports")
    with httpx.Client(base_url=few_counts, timeout=30) as client:
        body = client.get(ITEMS, params={"f": "json", "limit": 10}).json()
        assert "numberMatched" not in body and body["numberReturned"] == 10
        assert "after=" in (next_href(body) or ""), "no count: the next link still comes"
        exact = client.get(ITEMS, params={"f": "json", "limit": 10}, headers={"Prefer": "return=minimal, count=exact"})
        assert exact.json()["numberMatched"] == total
        assert exact.headers["preference-applied"] == "count=exact"
        # A small layer, and a small box, are still counted.
        dams = client.get("/ogc/collections/dams/items", params={"f": "json"}).json()
        assert dams["numberMatched"] == db.execute("SELECT count(*) FROM dams").fetchone()[0]  # type: ignore[index]
        small = client.get(ITEMS, params={"f": "json", "bbox": "107.577,16.467,107.578,16.468"}).json()
        assert small["numberMatched"] == len(codes(db, "107.577,16.467,107.578,16.468"))


def test_the_suite_server_counts_below_its_default_threshold(client: httpx.Client, db: psycopg.Connection) -> None:
    response = client.get(ITEMS, params={"f": "json", "limit": 1})
    assert response.json()["numberMatched"] == len(codes(db))
    assert "preference-applied" not in response.headers


# --- keyset next links ---------------------------------------------------------------------------


@pytest.mark.parametrize("bbox", [None, CENTRE_BBOX])
def test_next_links_by_key_read_every_feature_once(client: httpx.Client, db: psycopg.Connection, bbox: str) -> None:
    query = "f=json&limit=97" if bbox is None else f"f=json&limit=13&bbox={bbox}"
    ids, bodies = walk(client, f"{ITEMS}?{query}")
    expected = codes(db, bbox)
    assert len(bodies) > 2, "several pages"
    assert len(ids) == len(set(ids)) == len(expected) and set(ids) == set(expected)
    for body in bodies[:-1]:
        href = next_href(body)
        assert href is not None and "after=" in href and "offset=" not in href, href
        if bbox:
            assert f"bbox={bbox}" in href
    # numberMatched counts the selection on every page, not what is left after the key.
    assert {body["numberMatched"] for body in bodies} == {len(expected)}


def test_offset_pages_equal_key_pages_and_link_on_by_key(client: httpx.Client) -> None:
    _, bodies = walk(client, f"{ITEMS}?f=json&limit=10&bbox={CENTRE_BBOX}")
    by_offset = client.get(ITEMS, params={"f": "json", "limit": 10, "bbox": CENTRE_BBOX, "offset": 20}).json()
    assert [f["id"] for f in by_offset["features"]] == [f["id"] for f in bodies[2]["features"]]
    assert next_href(by_offset) == next_href(bodies[2])
    assert any(link["rel"] == "prev" and "offset=10" in link["href"] for link in by_offset["links"])


def test_sorted_pages_keep_offset_links(client: httpx.Client) -> None:
    body = client.get(ITEMS, params={"f": "json", "limit": 5, "sortby": "-received_at"}).json()
    assert "offset=5" in (next_href(body) or "")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"after": "abc"}, "not a valid int"),
        ({"after": str(2**63)}, "not a valid int"),
        ({"after": "10", "sortby": "code"}, "leave out sortby"),
        ({"after": "10", "offset": "20"}, "not both"),
        ({"after": "10", "f": "html"}, "f=json"),
        ({"after": "10", "lang": "vi"}, "f=json"),
        ({"after": "10", "resulttype": "hits"}, "f=json"),
    ],
)
def test_bad_after_is_400_naming_it(client: httpx.Client, params: dict[str, str], message: str) -> None:
    response = client.get(ITEMS, params=params)
    assert response.status_code == 400, response.text
    description = response.json()["description"]
    assert description.startswith("after:") and message in description, description


def test_openapi_declares_after(client: httpx.Client) -> None:
    document = client.get("/ogc/openapi", params={"f": "json"}).json()
    parameters = document["paths"]["/collections/citizen_reports/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/after"} in parameters
    assert document["components"]["parameters"]["after"]["name"] == "after"


# --- real clients --------------------------------------------------------------------------------


def ogr2ogr(server: str, out: Path, page_size: int, *extra: str) -> str:
    """Read citizen_reports with GDAL's OAPIF driver into GeoJSON (the report code as property id); its debug output."""
    done = subprocess.run(
        ["ogr2ogr", "--debug", "on", "-f", "GeoJSON", str(out), "-oo", f"PAGE_SIZE={page_size}", *extra,
         f"OAPIF:{server}/ogc", "citizen_reports"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return done.stderr


@pytest.mark.parametrize("counting", ["all", "few"])
@pytest.mark.parametrize("bbox", [None, CENTRE_BBOX])
def test_gdal_reads_the_layer_through_key_links(
    server: str, few_counts: str, db: psycopg.Connection, tmp_path: Path, counting: str, bbox: str | None
) -> None:
    out = tmp_path / "reports.geojson"
    spatial = ["-spat", *bbox.split(",")] if bbox else []
    log = ogr2ogr(server if counting == "all" else few_counts, out, 400 if bbox is None else 20, *spatial)
    fetched = [line for line in log.splitlines() if "/collections/citizen_reports/items" in line]
    assert any("after=" in line for line in fetched), "\n".join(fetched[-5:])
    read = [feature["properties"]["id"] for feature in json.loads(out.read_text())["features"]]
    expected = codes(db, bbox)
    assert len(read) == len(set(read)) == len(expected) and set(read) == set(expected)


@pytest.mark.parametrize("bbox", [None, CENTRE_BBOX])
def test_owslib_reads_the_layer_through_key_links(few_counts: str, db: psycopg.Connection, bbox: str | None) -> None:
    """OWSLib reads one page per call: each call takes the parameters of the previous page's next link."""
    api = Features(f"{few_counts}/ogc")
    box = {"bbox": [float(v) for v in bbox.split(",")]} if bbox else {}
    kwargs: dict[str, Any] = {"limit": 300 if bbox is None else 20, **box}
    read: list[str] = []
    while True:
        page = api.collection_items("citizen_reports", **kwargs)
        read += [feature["id"] for feature in page["features"]]
        href = next_href(page)
        if href is None or not page["features"]:
            break
        kwargs = dict(parse_qsl(urlsplit(href).query))
        assert "after" in kwargs and "offset" not in kwargs
        if "bbox" in kwargs:  # OWSLib joins a list itself
            kwargs["bbox"] = [float(v) for v in kwargs["bbox"].split(",")]
    expected = codes(db, bbox)
    assert len(read) == len(set(read)) == len(expected) and set(read) == set(expected)
