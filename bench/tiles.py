"""Vector-tile throughput: a fixed list of tiles at z10-z16 over Huế's layers, cold and warm.

    .venv/bin/python bench/tiles.py [--concurrency 8] [--passes 3]

Three measurements over the same tile list, on the platform's database (``huegis setup`` first;
``HUEGIS_DB_NAME`` picks another loaded database):

* raw SQL   - ``tiles.vector.render_tile`` on one psycopg connection: PostGIS's cost, no HTTP;
* HTTP cold - a fresh uvicorn (one process), every tile rendered once: the first visitor's view;
* HTTP warm - the same tiles again: served from the in-process cache (validated by layer versions).

The HTTP client (httpx) shares the 2 cores with the server; when ``wrk`` is installed (Debian
package ``wrk``, the tool of ../shared/PERFORMANCE.md) the warm list is also replayed with
``wrk -t2 -c8``, which costs the server far less CPU than the Python client: once asking for no
encoding (wrk's default), once for gzip as browsers do.

Prints tiles/s, latency percentiles and tile sizes. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import morecantile
from psycopg import AsyncConnection

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from geo.settings import Settings  # noqa: E402
from tiles.vector import TILESETS, render_tile  # noqa: E402

TMS = morecantile.tms.get("WebMercatorQuad")
CITY = (107.028, 15.9947, 108.1946, 16.7426)
CENTRE = (107.5775, 16.4680)  # the Imperial City
TILESET_IDS = ("basemap", "planning_zones", "land_parcels", "construction_permits", "health_facilities", "schools",
               "tourism_sites", "admin_units")  # fmt: skip


def tile_list() -> list[tuple[str, int, int, int]]:
    """z10: the whole city; z11-z16: the 3 x 3 tiles around the Imperial City; for each tileset."""
    tiles: list[tuple[int, int, int]] = [(t.z, t.x, t.y) for t in TMS.tiles(*CITY, zooms=[10])]
    for z in range(11, 17):
        centre = TMS.tile(*CENTRE, z)
        tiles += [(z, centre.x + dx, centre.y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    return [(tileset, z, x, y) for tileset in TILESET_IDS for z, x, y in tiles]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(label: str, seconds: float, latencies: list[float], sizes: list[int]) -> float:
    rate = len(latencies) / seconds
    nonempty = [s for s in sizes if s]
    print(
        f"{label:10} {rate:8.0f} tiles/s   p50 {percentile(latencies, 0.5) * 1000:6.1f} ms   "
        f"p95 {percentile(latencies, 0.95) * 1000:6.1f} ms   {len(nonempty)}/{len(sizes)} non-empty, "
        f"mean {statistics.mean(nonempty) / 1024 if nonempty else 0:6.1f} KiB, max {max(sizes) / 1024:6.1f} KiB"
    )
    return rate


async def raw_sql(settings: Settings, tiles: list[tuple[str, int, int, int]]) -> float:
    latencies, sizes = [], []
    async with await AsyncConnection.connect(settings.conninfo()) as conn:
        started = time.perf_counter()
        for tileset, z, x, y in tiles:
            t0 = time.perf_counter()
            content = await render_tile(conn, TILESETS[tileset], z, x, y)
            latencies.append(time.perf_counter() - t0)
            sizes.append(len(content))
        elapsed = time.perf_counter() - started
    return report("raw SQL", elapsed, latencies, sizes)


async def http_pass(base: str, tiles: list[tuple[str, int, int, int]], concurrency: int, label: str) -> float:
    queue: asyncio.Queue[tuple[str, int, int, int]] = asyncio.Queue()
    for tile in tiles:
        queue.put_nowait(tile)
    latencies: list[float] = []
    sizes: list[int] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            tileset, z, x, y = queue.get_nowait()
            t0 = time.perf_counter()
            response = await client.get(f"/tiles/{tileset}/{z}/{x}/{y}.mvt")
            latencies.append(time.perf_counter() - t0)
            assert response.status_code in (200, 204), response.text
            sizes.append(len(response.content))

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return report(label, elapsed, latencies, sizes)


WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk_pass(
    base: str, tiles: list[tuple[str, int, int, int]], seconds: int = 10, *, gzip: bool = False
) -> float | None:
    """Warm tiles/s measured by wrk (2 threads, 8 connections) cycling through the list; None without wrk.

    ``gzip``: ask for gzipped tiles, as browsers do (wrk asks for no encoding unless told).
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    paths = ", ".join(f'"/tiles/{tileset}/{z}/{x}/{y}.mvt"' for tileset, z, x, y in tiles)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % paths)
    encoding = ["-H", "Accept-Encoding: gzip"] if gzip else []
    try:
        out = subprocess.run(
            [wrk, "-t2", "-c8", f"-d{seconds}s", "-s", script.name, *encoding, base],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    rate = float(next(line for line in out.splitlines() if line.startswith("Requests/sec:")).split()[1])
    label, how = ("wrk gzip", ", Accept-Encoding: gzip") if gzip else ("wrk warm", ", no Accept-Encoding")
    print(f"{label:10} {rate:8.0f} tiles/s   (wrk -t2 -c8 -d{seconds}s over the same list{how})")
    return rate


def start_server(settings: Settings) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HUEGIS_DB_NAME": settings.db_name, "HUEGIS_PORT": str(port), "HUEGIS_PUBLIC_URL": base}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--port", str(port), "--no-access-log",
         "--log-level", "warning"],
        cwd=PROJECT_DIR, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=8, help="parallel HTTP requests (default 8)")
    parser.add_argument("--passes", type=int, default=3, help="warm passes (default 3)")
    args = parser.parse_args()
    settings = Settings()
    tiles = tile_list()
    print(
        f"{len(tiles)} tiles: {len(TILESET_IDS)} tilesets x z10-z16 around the Imperial City; "
        f"database {settings.db_name}"
    )
    raw = await raw_sql(settings, tiles)
    proc, base = start_server(settings)
    try:
        cold = await http_pass(base, tiles, args.concurrency, "HTTP cold")
        warm = max([await http_pass(base, tiles, args.concurrency, "HTTP warm") for _ in range(args.passes)])
        wrk_rate = wrk_pass(base, tiles)
        wrk_pass(base, tiles, gzip=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(
        f"\nHTTP cold / raw SQL: {cold / raw:.2f}   warm / cold: {warm / cold:.1f}x   (concurrency {args.concurrency})"
    )
    if wrk_rate:
        print(f"wrk warm / HTTP cold: {wrk_rate / cold:.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
