"""When PostGIS stops, /healthz answers 503 quickly; when it returns, the app recovers by itself."""

from __future__ import annotations

import time

import httpx

from geo import cluster
from geo.settings import Settings


def wait_for(client: httpx.Client, path: str, status: int, seconds: float = 30) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = client.get(path)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def test_database_outage_gives_503_and_recovers(client: httpx.Client, loaded: Settings) -> None:
    assert client.get("/healthz").status_code == 200
    local = cluster.LocalCluster(loaded)
    local.stop("immediate")
    try:
        started = time.monotonic()
        down = client.get("/healthz")
        assert down.status_code == 503
        assert time.monotonic() - started < 10, "a stopped database must not hang the request"
        assert down.json()["status"] == "unavailable"
        layers = client.get("/api/layers")
        assert layers.status_code == 503
        assert "database is unavailable" in layers.json()["detail"]
    finally:
        local.start()
    assert wait_for(client, "/healthz", 200).status_code == 200
    assert client.get("/api/layers").status_code == 200
    assert client.get("/ogc/collections/admin_units/items", params={"f": "json", "limit": 1}).status_code == 200
