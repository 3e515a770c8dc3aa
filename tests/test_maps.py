"""Planners' web maps: pages for every map, local assets only, the density choropleth against
PostGIS, and the standalone export."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import folium
import httpx
import psycopg
import pytest

from geo.maps import (
    BASEMAP_LAYERS,
    EXTERNAL_ASSET,
    MAPS,
    Assets,
    Deferred,
    MapData,
    build_map,
    fetch_map_data,
    render_html,
)
from geo.registry import REGISTRY
from geo.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
ASSET = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)="([^"]+)""")


def assets_of(html: str) -> set[str]:
    return {url for url in ASSET.findall(html) if not url.startswith("data:")}


def test_index_lists_every_map(client: httpx.Client) -> None:
    page = client.get("/maps")
    assert page.status_code == 200
    for spec in MAPS.values():
        assert f'href="/maps/{spec.name}?lang=vi"' in page.text and spec.title_vi in page.text
    assert "Population density by ward" in client.get("/maps", params={"lang": "en"}).text


@pytest.mark.parametrize("name", list(MAPS))
def test_every_map_page_loads_assets_from_the_platform_only(client: httpx.Client, name: str) -> None:
    page = client.get(f"/maps/{name}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not EXTERNAL_ASSET.findall(page.text)
    urls = assets_of(page.text)
    assert urls and all(url.startswith("/static/vendor/") for url in urls)
    for url in urls:
        assert client.get(url).status_code == 200, url
    for layer_id in MAPS[name].layers:
        title = REGISTRY[layer_id].title_vi
        assert title in page.text or json.dumps(title)[1:-1] in page.text, "each overlay is named in the layer control"


def test_overview_has_density_thematic_layers_and_disaster_zones(client: httpx.Client) -> None:
    html = client.get("/maps/overview", params={"lang": "en"}).text
    for title in ("Population density (per km²)", "Planning zones", "Schools", "Health facilities", "Disaster zones"):
        assert title in html
    assert "L.control.layers" in html and "huegis-legend" in html


def test_hidden_overlays_are_fetched_not_embedded(client: httpx.Client, db: psycopg.Connection) -> None:
    """The overview embeds what it shows at first; a hidden overlay comes from its own URL, as the page draws it."""
    html = client.get("/maps/overview", params={"lang": "en"}).text
    zones = db.execute("SELECT count(*), min(plan_code) FROM planning_zones").fetchone()
    assert zones and zones[0] > 0
    assert '"/maps/overview/overlays/planning_zones"' in html and f"Planning zones ({zones[0]:,})" in html
    assert json.dumps(zones[1])[1:-1] not in html, "the zones' features are not in the page"
    answer = client.get("/maps/overview/overlays/planning_zones", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/geo+json"
    assert answer.headers["content-encoding"] == "gzip"
    features = answer.json()["features"]
    assert len(features) == zones[0] and zones[1] in {f["properties"].get("plan_code") for f in features}
    assert '"/maps/overview/overlays/schools"' not in html, "shown overlays stay in the page"


@pytest.mark.parametrize(("path", "named"), [("/maps/overview/overlays/atlantis", "planning_zones"),
                                             ("/maps/density/overlays/schools", "overlays: "),
                                             ("/maps/atlantis/overlays/schools", "overview")])  # fmt: skip
def test_unknown_overlay_is_404(client: httpx.Client, path: str, named: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and named in response.json()["detail"]


def test_a_deferred_overlay_needs_its_url() -> None:
    data = MapData(basemap=dict.fromkeys(BASEMAP_LAYERS, '{"type": "FeatureCollection", "features": []}'), layers={})
    data.deferred["planning_zones"] = Deferred(features=3, columns=("name",))
    with pytest.raises(ValueError, match="overlays="):
        build_map(MAPS["overview"], data, assets=Assets())
    fmap = build_map(MAPS["overview"], data, assets=Assets(), lang="en", overlays="/maps/overview/overlays")
    html = render_html(fmap, "en")
    assert "huegisDeferred(" in html and "Planning zones (3)" in html


def test_density_choropleth_matches_postgis(loaded: Settings, db: psycopg.Connection) -> None:
    async def read() -> MapData:
        async with await psycopg.AsyncConnection.connect(loaded.conninfo()) as conn:
            return await fetch_map_data(conn, MAPS["density"])

    data = asyncio.run(read())
    assert data.density is not None
    features = {f["properties"]["code"]: f["properties"] for f in json.loads(data.density)["features"]}
    rows = db.execute(
        "SELECT code, round((population / area_km2)::numeric) FROM admin_units "
        "WHERE level <> 'city' AND population IS NOT NULL"
    ).fetchall()
    assert len(rows) == 40 and len(features) == 40
    for code, density in rows:
        assert features[code]["density"] == float(density)


def test_unknown_map_is_404(client: httpx.Client) -> None:
    response = client.get("/maps/atlantis")
    assert response.status_code == 404 and "overview" in response.json()["detail"]


def test_a_cdn_asset_is_refused() -> None:
    fmap = folium.Map(tiles=None)
    fmap.default_js = [*Assets().js(), ("evil", "https://cdn.example.org/evil.js")]
    with pytest.raises(RuntimeError, match=r"cdn\.example\.org"):
        render_html(fmap)


def test_export_writes_standalone_files(loaded: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "HUEGIS_DB_NAME": loaded.db_name}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("huegis")), "maps", "export", str(tmp_path), "--only", "density",
         "--only", "schools", "--lang", "en"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {p.name for p in tmp_path.glob("*.html")} == {"density.html", "schools.html", "index.html"}
    html = (tmp_path / "schools.html").read_text()
    assert not EXTERNAL_ASSET.findall(html)
    for url in assets_of(html):
        assert url.startswith("vendor/") and (tmp_path / url).is_file(), url
    assert "Schools" in html and "All maps" in html


def test_analytics_cells_are_drawn_when_present(loaded: Settings) -> None:
    async def read() -> MapData:
        async with await psycopg.AsyncConnection.connect(loaded.conninfo()) as conn:
            return await fetch_map_data(conn, MAPS["density"])

    data = asyncio.run(read())
    cell = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[107.57, 16.46], [107.58, 16.46], [107.58, 16.47], [107.57, 16.46]]],
        },
        "properties": {"label": "hot_99", "gi_class": 3, "events": 42, "gi_z": 3.4, "p_value": 0.001, "period": "week"},
    }
    data.analytics = {"hotspot_cells": json.dumps({"type": "FeatureCollection", "features": [cell]})}
    html = render_html(build_map(MAPS["overview"], data, assets=Assets(), lang="en"))
    assert "(1)" in html and "#b2182b" in html, "a 99 % hot spot in the darkest red"


# The names ATTRIBUTION.md asks each drawn source to be credited by.
ROADS, COAST, WARDS = "LegoCity", "GSHHG", "DiaPhan_Xa_2025"


@pytest.mark.parametrize("name", ["overview", "density", "schools", "disasters"])
def test_every_map_credits_the_data_it_draws(client: httpx.Client, name: str) -> None:
    page = client.get(f"/maps/{name}").text
    control = re.search(r"attributionControl\.setPrefix\(\"Leaflet\"\)\.addAttribution\((\".*?\")\)", page)
    assert control, "the attribution control lists the credits"
    credits = json.loads(control.group(1))
    for source in (ROADS, COAST, WARDS, "LGPL-3.0", "CC-BY-SA-4.0"):
        assert source in credits, source
    for layer in MAPS[name].overlays():
        assert REGISTRY[layer].source.split(" (")[0].split(";")[0] in credits, layer
    if name in ("schools", "disasters"):
        assert "GeoNames" in credits  # universities


@pytest.mark.parametrize("path", ["/emergency", "/dashboard"])
def test_emergency_and_dashboard_maps_credit_their_data(client: httpx.Client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert WARDS in page.text
    if path == "/emergency":  # over the vector basemap: roads, coast, places too
        for source in (ROADS, COAST, "GeoNames", "HueIOC"):
            assert source in page.text, source
