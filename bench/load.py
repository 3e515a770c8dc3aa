"""Load generators: ``wrk`` (C, cheap on the client side) or an httpx async client, and a driver for raw SQL.

Every generator keeps ``concurrency`` requests in flight for ``duration`` seconds (or sends each
path once) and returns a :class:`Measurement`: requests/s, median and p99 latency, errors.
An error is a response that is not 2xx, a socket error or a timeout. wrk itself counts statuses
of 400 and above; the harness checks every path once beforehand (``check_paths``), so a 1xx/3xx
answer cannot hide in a wrk run.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
WRK_INTAKE_SCRIPT = Path(__file__).with_name("intake.lua")
REQUEST_TIMEOUT_S = 60


@dataclass
class Measurement:
    """One server (or raw SQL) under one scenario."""

    server: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    loader: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rate": round(self.rate, 2)}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0-1) of ``values`` by the nearest-rank method; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def pick_loader(requested: str) -> str:
    """``wrk`` when asked for or (``auto``) installed; otherwise ``httpx``."""
    if requested == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk); use --loader httpx")
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "httpx"
    return requested


# --- a generic driver: N workers in a loop until the deadline ------------------------------------

Step = Callable[[int, int], Awaitable[bool]]


async def drive(
    step: Step, *, workers: int, duration: float | None, total: int | None = None, latencies: list[float] | None = None
) -> Measurement:
    """Run ``step(worker, n)`` in ``workers`` loops for ``duration`` s or ``total`` calls in all.

    ``step`` returns True on success; an exception counts as an error. ``n`` numbers the calls 0, 1, ….
    Latencies are appended to ``latencies`` when given (several runs pooled into one distribution).
    """
    latencies = [] if latencies is None else latencies
    first = len(latencies)
    errors = 0
    counter = iter(range(10**12))
    started = time.perf_counter()
    deadline = started + duration if duration is not None else float("inf")

    async def loop(worker: int) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            n = next(counter)
            if total is not None and n >= total:
                return
            t0 = time.perf_counter()
            try:
                ok = await step(worker, n)
            except Exception:
                ok = False
            latencies.append(time.perf_counter() - t0)
            errors += not ok

    await asyncio.gather(*(loop(w) for w in range(workers)))
    elapsed = time.perf_counter() - started
    mine = latencies[first:]
    return Measurement("", len(mine), elapsed, errors, percentile(mine, 0.5) * 1000, percentile(mine, 0.99) * 1000, "")


# --- HTTP ----------------------------------------------------------------------------------------


def _client(base: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=base, limits=limits, timeout=REQUEST_TIMEOUT_S)


async def httpx_load(
    server: str,
    base: str,
    paths: Sequence[str],
    *,
    concurrency: int,
    duration: float | None,
    once: bool = False,
    latencies: list[float] | None = None,
) -> Measurement:
    """GET ``paths`` in a cycle for ``duration`` s (or each once) with an httpx async client."""
    async with _client(base, concurrency) as client:

        async def step(worker: int, n: int) -> bool:
            response = await client.get(paths[n % len(paths)])
            return 200 <= response.status_code < 300

        result = await drive(step, workers=concurrency, duration=duration, total=len(paths) if once else None,
                             latencies=latencies)  # fmt: skip
    result.server, result.loader = server, "httpx"
    return result


def wrk_load(server: str, base: str, paths: Sequence[str], *, concurrency: int, duration: float) -> Measurement:
    """GET ``paths`` in a cycle for ``duration`` s with wrk (threads: up to 2, connections: ``concurrency``)."""
    threads = max(1, min(2, concurrency))
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    try:
        argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(duration))}s",
                f"--timeout={REQUEST_TIMEOUT_S}s", "-s", str(WRK_SCRIPT), base, "--", listing.name]  # fmt: skip
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    finally:
        Path(listing.name).unlink(missing_ok=True)
    line = next((x for x in out.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    s = json.loads(line.removeprefix("WRK_JSON "))
    errors = s["status_errors"] + s["connect_errors"] + s["read_errors"] + s["write_errors"] + s["timeouts"]
    return Measurement(server, s["requests"], s["duration_us"] / 1e6, errors, s["p50_us"] / 1000, s["p99_us"] / 1000,
                       "wrk", detail={"bytes": s["bytes"], "max_ms": s["max_us"] / 1000})  # fmt: skip


def wrk_intake(base: str, *, key_prefix: str, categories: Sequence[str], concurrency: int, duration: float,
               rate: float | None = None) -> tuple[Measurement, list[str]]:  # fmt: skip
    """POST reports with wrk (``bench/intake.lua``) for ``duration`` s; the measurement and every 201's code.

    ``rate``: pace the connections to about this many reports per second (each waits
    ``concurrency / rate`` s between its requests); None: as fast as the server answers.
    """
    delay_ms = round(concurrency * 1000 / rate) if rate else 0
    threads = max(1, min(2, concurrency))
    argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(duration))}s",
            f"--timeout={REQUEST_TIMEOUT_S}s", "-s", str(WRK_INTAKE_SCRIPT), base, "--", key_prefix, str(delay_ms),
            ",".join(categories)]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    codes = [code for line in out.splitlines() if line.startswith("WRK_CODES ") for code in line.split()[1:]]
    line = next((x for x in out.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out[-2000:]}")
    s = json.loads(line.removeprefix("WRK_JSON "))
    errors = s["refused"] + s["connect_errors"] + s["read_errors"] + s["write_errors"] + s["timeouts"]
    refused: dict[str, int] = {}
    for status in (x for line in out.splitlines() if line.startswith("WRK_REFUSED ") for x in line.split()[1:]):
        refused[status] = refused.get(status, 0) + 1
    detail = {"created": s["created"], "refused": refused, "max_ms": s["max_us"] / 1000, "delay_ms": delay_ms}
    return Measurement("ours", s["requests"], s["duration_us"] / 1e6, errors, s["p50_us"] / 1000, s["p99_us"] / 1000,
                       "wrk", detail=detail), codes  # fmt: skip


async def http_load(
    server: str, base: str, paths: Sequence[str], *, loader: str, concurrency: int, duration: float, warmup: float
) -> Measurement:
    """Warm up for ``warmup`` s, then measure for ``duration`` s with the chosen loader."""
    if loader == "wrk":
        if warmup >= 1:
            await asyncio.to_thread(wrk_load, server, base, paths, concurrency=concurrency, duration=warmup)
        return await asyncio.to_thread(wrk_load, server, base, paths, concurrency=concurrency, duration=duration)
    if warmup > 0:
        await httpx_load(server, base, paths, concurrency=concurrency, duration=warmup)
    return await httpx_load(server, base, paths, concurrency=concurrency, duration=duration)


@dataclass
class Checked:
    """What one pass over the paths answered: statuses, bytes, the JSON bodies (when JSON) and our
    tile cache's verdicts (``X-Tile-Cache``: hit, miss, bypass)."""

    statuses: dict[int, int]
    bytes: int
    bodies: list[Any]
    invalid_json: list[str] = field(default_factory=list)
    tile_cache: dict[str, int] = field(default_factory=dict)

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)


async def check_paths(base: str, paths: Sequence[str], *, concurrency: int = 4, keep_json: bool = True) -> Checked:
    """GET every distinct path once: the statuses and bodies the load run will get."""
    statuses: dict[int, int] = {}
    cache: dict[str, int] = {}
    bodies: list[Any] = []
    invalid: list[str] = []
    size = 0
    semaphore = asyncio.Semaphore(concurrency)
    async with _client(base, concurrency) as client:

        async def one(path: str) -> None:
            nonlocal size
            async with semaphore:
                response = await client.get(path)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if "x-tile-cache" in response.headers:
                verdict = response.headers["x-tile-cache"]
                cache[verdict] = cache.get(verdict, 0) + 1
            size += len(response.content)
            if keep_json and "json" in response.headers.get("content-type", "") and response.status_code == 200:
                try:
                    bodies.append(response.json())
                except ValueError as exc:
                    invalid.append(f"{path}: {exc}; {response.text[:200]!r}")

        await asyncio.gather(*(one(p) for p in dict.fromkeys(paths)))
    return Checked(statuses, size, bodies, invalid, cache)
