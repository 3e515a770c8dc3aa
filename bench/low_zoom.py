"""Low-zoom report tiles: the points statement (before 0024) against the report_cells bins, interleaved.

    HUEGIS_DB_NAME=huegis_scale_200000 .venv/bin/python -m bench.low_zoom [--rounds 7]

On one connection, for each tile (z5, z8 over Hà Nội, z11 over Huế), ``rounds`` times in turn:
render it as a tile-cache miss does (``tiles.vector.render_tile``) once with the points statement
(every report under the tile read and sorted to keep 2,500: what z < 12 did before) and once from
``report_cells``. Prints the first render and the median of each, in ms, the features and bytes,
and checks that the bins count exactly the reports under the tile. Also the time of a full
``rebuild_report_cells``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import replace
from typing import Any

import mapbox_vector_tile
import psycopg
from psycopg import AsyncConnection

from bench.scale import CENTRE, HANOI
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
    """The tileset as before migration 0024: its own rows at every zoom."""
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(main(parser.parse_args().rounds))
