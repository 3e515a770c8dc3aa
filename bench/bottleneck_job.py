"""The dashboard's bottleneck requests computed on request (before the job) and answered from the job's table.

    .venv/bin/python -m bench.bottleneck_job [--db huegis_scale_200000] [--repeat 2]

On an existing, migrated database (e.g. one of bench/scale.py's): our app with the job off; the table
emptied and each request timed as it is computed on request (the first answer and the median of
``--repeat`` more); then the job's work once (``refresh_bottlenecks``, each period's seconds as it
stored them) and the same requests answered from the table. The flags must be the same both ways (the
running periods are compared by handler and metric only: a few minutes later, open reports are older).
Prints a table and writes JSON to ``.data/bench/bottleneck-job-<stamp>.json``. Not part of CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import datetime, timedelta

import httpx
import psycopg

from bench.report import machine
from bench.servers import BENCH_DIR, start_ours
from geo.analytics.bottleneck_table import refresh_bottlenecks
from geo.db import create_pool
from geo.settings import Settings
from geo.times import TZ

CLIENT_TIMEOUT_S = 300


def dashboard_requests(now: datetime) -> list[tuple[str, dict]]:
    """(label, query): what dashboard.js asks for the month so far and the month before, and the API's default."""
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = (month_start - timedelta(days=1)).replace(day=1)
    return [
        ("dashboard, this month so far", {"at": now.isoformat(), "window_days": max(7, now.day)}),
        ("dashboard, last month", {"at": month_start.isoformat(), "window_days": (month_start - previous).days}),
        ("API default (180 days to now)", {}),
    ]


def timed(client: httpx.Client, params: dict, repeat: int) -> dict:
    """First answer and median of ``repeat`` more in ms; the answer's source and flags."""
    times, body = [], {}
    for _ in range(repeat + 1):
        started = time.perf_counter()
        response = client.get("/api/bottlenecks", params=params)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        body = response.json()
    flags = [(f["handler"], f["metric"], f["stage"]) for f in body["flags"]]
    return {"cold_ms": round(times[0], 1), "median_ms": round(statistics.median(times[1:] or times), 1),
            "source": body["source"], "flags": flags}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bottleneck_job", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--db", default="huegis_scale_200000", help="database name (huegis_scale_200000)")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions after the first answer (2)")
    parser.add_argument("--months", type=int, default=3, help="calendar months the job keeps (3)")
    args = parser.parse_args(argv)
    settings = Settings(db_name=args.db)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
        conn.execute("DELETE FROM bottleneck_results")
        reports = conn.execute("SELECT count(*) FROM citizen_reports").fetchone()
    server = start_ours(settings, name="ours-bottlenecks", extra_env={"HUEGIS_BOTTLENECK_INTERVAL_S": "0"})
    results: dict = {"reports": reports[0] if reports else None, "before": {}, "after": {}}
    try:
        requests = dashboard_requests(datetime.now(TZ))
        with httpx.Client(base_url=server.base, timeout=CLIENT_TIMEOUT_S) as client:
            for label, params in requests:
                results["before"][label] = timed(client, params, args.repeat)
                print(f"  on request  {label:32} {results['before'][label]['median_ms']:10.1f} ms", flush=True)

            async def job() -> tuple[list[str], float]:
                started = time.perf_counter()
                async with create_pool(settings) as pool:
                    keys = await refresh_bottlenecks(pool, months=args.months, max_age_s=3600)
                return keys, time.perf_counter() - started

            keys, seconds = asyncio.run(job())
            with psycopg.connect(settings.conninfo()) as conn:
                rows = conn.execute("SELECT key, seconds FROM bottleneck_results ORDER BY at DESC").fetchall()
            results["job"] = {"seconds": round(seconds, 1), "periods": {k: round(s, 1) for k, s in rows}}
            print(f"  job: {len(keys)} periods in {seconds:.1f} s: {results['job']['periods']}", flush=True)
            for label, params in dashboard_requests(datetime.now(TZ)):  # the dashboard's clock has moved on
                results["after"][label] = timed(client, params, args.repeat)
                print(f"  from table  {label:32} {results['after'][label]['median_ms']:10.1f} ms", flush=True)
    finally:
        server.stop()
    results["machine"] = machine(settings)
    print(f"\n{results['reports']:,} reports; load average {results['machine']['load_average']}\n")
    print("| request | on request ms (first) | from the table ms (first) | same flags |\n|---|---:|---:|---|")
    for label, _ in requests:
        before, after = results["before"][label], results["after"][label]
        same = "yes" if sorted(before["flags"]) == sorted(after["flags"]) else "no"
        print(f"| {label} | {before['median_ms']:,.1f} ({before['cold_ms']:,.1f}) "
              f"| {after['median_ms']:,.1f} ({after['cold_ms']:,.1f}) [{after['source']}] | {same} |")  # fmt: skip
    out = BENCH_DIR / f"bottleneck-job-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\n{out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
