"""Whole-month KPIs from kpi_unit_month against reading the reports, and the refresh of one touched month.

    .venv/bin/python -m bench.kpi_months [--size 200000] [--rounds 4] [--repeat 5] [--refresh-rounds 3]

On the scale database ``huegis_scale_<size>`` (made by ``python -m bench.scale``; its ``huegis kpis
refresh`` must have run on this schema):

1. The dashboard's "KPIs 2025 by unit" request on two servers, one as deployed (summed from
   kpi_unit_month) and one with ``HUEGIS_KPI_FROM_MONTHS=false`` (the reports scanned), in turn for
   ``--rounds`` rounds (which server goes first alternates): first answer and median of ``--repeat`` more.
   The two answers' groups must be equal.
2. The refresh: one touched unit-month (a report's rating changed and changed back: the trigger marks
   it, the kpi-months job's function recomputes it), one touched month (every unit of June 2025
   marked), and the full rebuild (``huegis kpis refresh``), in turn for ``--refresh-rounds`` rounds.

Prints the timings with the load average; not part of CI (docs/scaling.md holds the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

import httpx
import psycopg

from bench.scale import KPI_YEAR, timed
from bench.servers import Server, start_ours
from geo.analytics.kpis import refresh_kpi_unit_month, refresh_touched_kpi_months
from geo.settings import Settings

DASHBOARD = f"/api/kpis?{KPI_YEAR}&group_by=unit&compare=false"
MONTH = "2025-06-01"


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def requests(settings: Settings, rounds: int, repeat: int) -> None:
    # No first hot-spot run in the leader (minutes of CPU); start_ours turns the table refreshes off.
    quiet = {"HUEGIS_HOTSPOTS_ON_START": "false"}
    servers: dict[str, Server] = {}
    try:
        servers["table"] = start_ours(settings, name="kpi-table", extra_env=quiet)
        servers["reports"] = start_ours(settings, name="kpi-reports",
                                        extra_env={**quiet, "HUEGIS_KPI_FROM_MONTHS": "false"})  # fmt: skip
        answers: dict[str, list[dict]] = {}
        results: dict[str, list[dict]] = {name: [] for name in servers}
        for number in range(rounds):
            order = list(servers) if number % 2 == 0 else list(reversed(servers))
            for name in order:
                with httpx.Client(base_url=servers[name].base, timeout=120) as client:
                    results[name].append(timed(client, DASHBOARD, repeat))
                    answers[name] = client.get(DASHBOARD).json()["groups"]
                r = results[name][-1]
                print(f"  round {number + 1} {name:8} median {r['median_ms']:8.1f} ms (first {r['cold_ms']:.1f}) "
                      f"{r['statuses']}  load {load()}", flush=True)  # fmt: skip
        assert answers["table"] == answers["reports"], "the two paths answered differently"
        print(f"  same answer from both: {len(answers['table'])} units")
        for name, runs in results.items():
            medians = [r["median_ms"] for r in runs]
            firsts = [r["cold_ms"] for r in runs]
            print(f"  {name:8} median of round medians {statistics.median(medians):8.1f} ms "
                  f"(first answers {statistics.median(firsts):.1f})")  # fmt: skip
    finally:
        for server in servers.values():
            server.stop()


async def touched(settings: Settings, *, whole_month: bool) -> tuple[float, dict[str, int]]:
    """Mark one unit-month (a real write) or every unit of a month, and time the job's recomputation."""
    async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        if whole_month:
            await conn.execute("INSERT INTO kpi_dirty_months (unit_code, month) SELECT unit_code, month "
                               "FROM kpi_unit_month WHERE month = %s", (MONTH,))  # fmt: skip
        else:
            for _ in range(2):  # changed and changed back: the data ends as it began
                await conn.execute(
                    "UPDATE citizen_reports SET rating = 6 - rating WHERE id = (SELECT min(id) FROM citizen_reports "
                    "WHERE rating IS NOT NULL AND received_at >= %s::date AND received_at < %s::date + 28)",
                    (MONTH, MONTH),
                )
        started = time.perf_counter()
        done = await refresh_touched_kpi_months(conn)
        return time.perf_counter() - started, done


def refreshes(settings: Settings, rounds: int) -> None:
    asyncio.run(touched(settings, whole_month=False))  # nothing else pending
    for number in range(rounds):
        for whole_month in (False, True):
            seconds, done = asyncio.run(touched(settings, whole_month=whole_month))
            what = "one touched month (every unit)" if whole_month else "one touched unit-month"
            print(f"  round {number + 1} {what:32} {seconds * 1000:9.1f} ms {done}  load {load()}", flush=True)
        with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
            started = time.perf_counter()
            rows = refresh_kpi_unit_month(conn)
            seconds = time.perf_counter() - started
        print(f"  round {number + 1} {'full rebuild':32} {seconds * 1000:9.1f} ms ({rows} rows)  load {load()}",
              flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kpi_months", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--refresh-rounds", type=int, default=3)
    parser.add_argument("--only", choices=("requests", "refresh"), default=None)
    args = parser.parse_args(argv)
    settings = Settings(db_name=f"huegis_scale_{args.size}")
    print(f"{settings.db_name}, load average {load()}", flush=True)
    if args.only in (None, "requests"):
        print(f"GET {DASHBOARD}")
        requests(settings, args.rounds, args.repeat)
    if args.only in (None, "refresh"):
        print("refresh")
        refreshes(settings, args.refresh_rounds)
    print(f"load average at the end {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
