"""The benchmark harness's own parts (bench/): no server, no database, no timing assertions."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pygeoapi.config import validate_config

from bench.__main__ import parse_args
from bench.load import percentile, wrk_load
from bench.scenarios import TILE_ZOOMS, feature_sql, tile_list, tile_paths
from bench.servers import pygeoapi_config
from geo.registry import get_layer
from geo.settings import Settings


def test_percentile_is_nearest_rank():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.99) == 5.0
    assert percentile(values, 0.0) == 1.0
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN


def test_arguments_expand_groups_and_refuse_unknown_names():
    args = parse_args(["--scenarios", "features,kpi", "--peers", "tipg,raw"])
    assert args.scenario_names == ["items", "paging", "feature", "kpi"]
    assert args.peer_names == ["tipg", "raw"]
    every = ["items", "paging", "feature", "tiles", "kpi", "gistar", "intake", "scaling"]
    assert parse_args([]).scenario_names == every
    with pytest.raises(SystemExit, match="unknown scenario 'tile'"):
        parse_args(["--scenarios", "tile"])


def test_pygeoapi_peer_uses_the_stock_provider_and_a_valid_config():
    config = pygeoapi_config(Settings(db_name="huegis_bench"), "http://127.0.0.1:9999", 9999)
    provider = config["resources"]["citizen_reports"]["providers"][0]
    assert provider["name"] == "PostgreSQL"
    assert provider["id_field"] == "code"
    assert provider["data"]["dbname"] == "huegis_bench"
    assert validate_config(config)


def test_tiles_are_the_same_list_for_both_servers():
    tiles = tile_list()
    assert len(tiles) == 9 * len(TILE_ZOOMS)
    assert {z for z, _, _ in tiles} == set(TILE_ZOOMS)
    paths = tile_paths()
    assert len(paths["ours"]) == len(paths["tipg"]) == len(tiles)
    fields = ",".join(get_layer("citizen_reports").mvt_fields)
    assert all(path.endswith(f"?properties={fields}") for path in paths["tipg"])


def test_raw_feature_sql_names_every_public_field():
    text = feature_sql("feature_collection_bbox").as_string(None)
    for name in get_layer("citizen_reports").fields:
        assert f"'{name}', f.\"{name}\"" in text


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 404 if self.path.startswith("/missing") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_wrk_counts_requests_and_non_2xx_answers(http_server):
    good = wrk_load("local", http_server, ["/a", "/b"], concurrency=2, duration=1)
    assert good.requests > 0 and good.errors == 0 and good.loader == "wrk"
    bad = wrk_load("local", http_server, ["/missing"], concurrency=2, duration=1)
    assert bad.requests > 0 and bad.errors == bad.requests
