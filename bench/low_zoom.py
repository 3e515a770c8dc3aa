"""Low-zoom report tiles: the points statement (before 0027) against the report_cells bins, interleaved.

    HUEGIS_DB_NAME=huegis_scale_200000 .venv/bin/python -m bench.low_zoom [--rounds 7] [--before-tree DIR]

On one connection, for each tile (z5, z8 over Hà Nội, z11 over Huế), ``rounds`` times in turn:
render it as a tile-cache miss does (``tiles.vector.render_tile``) once with the points statement
(every report under the tile read and sorted to keep 2,500: what z < 12 did before) and once from
``report_cells``. Prints the first render and the median of each, in ms, the features and bytes,
and checks that the bins count exactly the reports under the tile. Also the time of a full
``rebuild_report_cells``.

``--before-tree DIR``: also over HTTP, a server of the code in DIR (``git archive <commit> | tar -x
-C DIR``, the code before 0027) and one of this tree, on the same database, each tile requested of
one then the other, every round a cache miss in both (a no-op statement bumps ``citizen_reports``
and ``report_cells`` in ``layer_versions``; the request says ``Cache-Control: no-cache``). Not
part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import psycopg
from psycopg import AsyncConnection

from bench.scale import CENTRE, HANOI
from bench.servers import BENCH_DIR, start_ours
from bench.tiles import TMS
from geo.registry import REGISTRY
from geo.reports.cells import rebuild_report_cells
from geo.settings import Settings
from tiles.vector import Tileset, layer_tileset, render_tile

TILES = (("z5 over Hà Nội", *HANOI, 5), ("z8 over Hà Nội", *HANOI, 8), ("z11 over Huế", *CENTRE, 11))
IN_TILE = (
    "SELECT count(*) FROM citizen_reports WHERE ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(%s, %s, %s))"
)


def points_only(tileset: Tileset) -> Tileset:
    """The tileset as before migration 0027: its own rows at every zoom."""
    return replace(tileset, layers=tuple(replace(layer, low_zoom=None) for layer in tileset.layers))


async def timed(conn: AsyncConnection, tileset: Tileset, z: int, x: int, y: int) -> tuple[float, bytes]:
    started = time.perf_counter()
    content = await render_tile(conn, tileset, z, x, y)
    return (time.perf_counter() - started) * 1000, content


async def scalar(conn: AsyncConnection, query: str, params: tuple = ()) -> Any:
    row = await (await conn.execute(query, params)).fetchone()
    assert row is not None
    return row[0]


async def main(rounds: int) -> None:
    settings = Settings()
    reports = layer_tileset(REGISTRY["citizen_reports"])
    before = points_only(reports)
    async with await AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        reports_n = await scalar(conn, "SELECT count(*) FROM citizen_reports")
        fine = await scalar(conn, "SELECT count(*) FROM report_cells WHERE zoom = 17")
        coarse = await scalar(conn, "SELECT count(*) FROM report_cells WHERE zoom = 14")
        print(f"database {settings.db_name}: {reports_n:,} reports in {fine:,} zoom-17 and {coarse:,} zoom-14 cells;"
              f" load {os.getloadavg()}")  # fmt: skip
        for label, lon, lat, z in TILES:
            t = TMS.tile(lon, lat, z)
            times: dict[str, list[float]] = {"points": [], "cells": []}
            sizes: dict[str, tuple[int, int]] = {}
            for _ in range(rounds):
                for name, tileset in (("points", before), ("cells", reports)):
                    ms, content = await timed(conn, tileset, t.z, t.x, t.y)
                    times[name].append(ms)
                    features = mapbox_vector_tile.decode(content).get("citizen_reports", {}).get("features", [])
                    sizes[name] = (len(features), len(content))
                    if name == "cells":
                        counted = sum(f["properties"]["count"] for f in features)
                        expected = await scalar(conn, IN_TILE, (t.z, t.x, t.y))
                        assert counted == expected, (label, counted, expected)
            for name, values in times.items():
                first, median = values[0], statistics.median(values)
                print(f"{label} ({t.z}/{t.x}/{t.y}) {name:6}: first {first:8.1f} ms, median {median:8.1f} ms"
                      f" of {rounds}; {sizes[name][0]:,} features, {sizes[name][1]:,} bytes")  # fmt: skip
    with psycopg.connect(settings.conninfo(), autocommit=True) as sync:
        started = time.perf_counter()
        cells = rebuild_report_cells(sync)
        print(f"rebuild_report_cells: {cells:,} cells in {time.perf_counter() - started:.1f} s; load {os.getloadavg()}")


BUMP = (  # statement triggers bump layer_versions even when no row changes
    "UPDATE citizen_reports SET status = status WHERE false",
    "UPDATE report_cells SET reports = reports WHERE false",
)


def over_http(before_tree: Path, rounds: int) -> None:
    """Cold (cache-miss) answers of the before and after servers, interleaved."""
    settings = Settings()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    env = {"HUEGIS_DATA_DIR": str(settings.data_dir), "HUEGIS_REPORT_CELLS_INTERVAL_S": "0"}
    before_env = {**env, "PYTHONPATH": str(before_tree)}
    servers = {"before": start_ours(settings, name="low-zoom-before", extra_env=before_env, cwd=before_tree),
               "after": start_ours(settings, name="low-zoom-after", extra_env=env)}  # fmt: skip
    try:
        with psycopg.connect(settings.conninfo(), autocommit=True) as conn, httpx.Client(timeout=120) as http:
            for label, lon, lat, z in TILES:
                t = TMS.tile(lon, lat, z)
                path = f"/tiles/citizen_reports/{t.z}/{t.x}/{t.y}.mvt"
                times: dict[str, list[float]] = {name: [] for name in servers}
                for _ in range(rounds):
                    for statement in BUMP:
                        conn.execute(statement)
                    for name, server in servers.items():
                        started = time.perf_counter()
                        response = http.get(server.base + path, headers={"Cache-Control": "no-cache"})
                        times[name].append((time.perf_counter() - started) * 1000)
                        assert response.headers.get("x-tile-cache") == "miss", (name, response.headers)
                for name, values in times.items():
                    first, median = values[0], statistics.median(values)
                    print(f"HTTP {label} {name:6}: first {first:8.1f} ms, median {median:8.1f} ms of {rounds} misses")
    finally:
        for server in servers.values():
            server.stop()
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before-tree", type=Path, help="the code before 0027, to serve the same tiles over HTTP")
    args = parser.parse_args()
    asyncio.run(main(args.rounds))
    if args.before_tree:
        over_http(args.before_tree, args.rounds)
