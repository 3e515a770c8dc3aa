"""The scaling curve: the same requests at 0.2 M, 2 M (and 20 M) reports, one database per size.

    .venv/bin/python -m bench.scale [--sizes 200000,2000000] [--no-events] [--repeat 5] [--only items] [--no-setup]

For each size: a database ``huegis_scale_<size>`` on the local cluster is set up (``huegis db
start``, ``db migrate``, ``load``, ``ogc openapi``, then ``huegis synth national --reports
<size>``, ``huegis kpis refresh`` and ``huegis kpis bottlenecks``; all idempotent: a second run loads
nothing), our app is started twice on it (as deployed, and counting numberMatched on every request
and reading whole-month KPIs from the reports, not kpi_unit_month),
and each request below is timed: its
first answer (cold: nothing cached, pages not in memory yet) and the median of ``--repeat`` more.
Prints one table (median ms, cold ms in brackets) and writes JSON to ``.data/bench/scale-<stamp>.json``.
Requests answering an error (e.g. 503 after the statement timeout) are shown as such.
Not part of CI: ``make scale-bench``; docs/scaling.md holds the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import psycopg

from bench.report import machine
from bench.servers import BENCH_DIR, Server, _run_logged, start_ours
from bench.tiles import TMS
from geo.settings import Settings

CENTRE = (107.5775, 16.4680)  # Huế's Imperial City
HANOI = (105.854, 21.029)
BBOX = "107.5725,16.4525,107.5875,16.4675"
KPI_YEAR = "start=2025-01-01&end=2026-01-01"
CLIENT_TIMEOUT_S = 120


def tile(lon: float, lat: float, z: int) -> str:
    t = TMS.tile(lon, lat, z)
    return f"/tiles/citizen_reports/{t.z}/{t.x}/{t.y}.mvt"


EXACT = {"Prefer": "count=exact"}


def requests(size: int, middle: int | None = None) -> list[tuple[str, str, str, dict[str, str]]]:
    """(label, server, path, headers): what is timed at every size; ``middle``: the key before row size/2."""
    items = "/ogc/collections/citizen_reports/items"
    return [
        ("items bbox (Huế centre), limit 1000, cached count", "ours", f"{items}?bbox={BBOX}&limit=1000", {}),
        ("items bbox, counting every request", "count", f"{items}?bbox={BBOX}&limit=1000", {}),
        ("items limit 100, offset 0, counting (whole table)", "count", f"{items}?limit=100", EXACT),
        ("items limit 100, offset 0, not counted (past HUEGIS_EXACT_COUNT_MAX)", "count", f"{items}?limit=100", {}),
        ("items limit 100, offset 100,000", "ours", f"{items}?limit=100&offset=100000", {}),
        ("items limit 100, offset size/2", "ours", f"{items}?limit=100&offset={size // 2}", {}),
        ("items limit 100, after the key at size/2 (next link)", "ours", f"{items}?limit=100&after={middle}", {}),
        ("tile z5 over Hà Nội", "ours", tile(*HANOI, 5), {}),
        ("tile z8 over Hà Nội", "ours", tile(*HANOI, 8), {}),
        ("tile z12 Huế centre", "ours", tile(*CENTRE, 12), {}),
        ("tile z14 Huế centre", "ours", tile(*CENTRE, 14), {}),
        ("KPIs 2025 by unit (dashboard)", "ours", f"/api/kpis?{KPI_YEAR}&group_by=unit&compare=false", {}),
        ("KPIs 2025 by unit, read from the reports", "count", f"/api/kpis?{KPI_YEAR}&group_by=unit&compare=false", {}),
        ("KPIs last 30 days + previous (dashboard default)", "ours", "/api/kpis", {}),
        ("KPIs of one ward, monthly trend (dashboard)", "ours", "/api/kpis/units/19789", {}),
        ("bottlenecks (dashboard; the job's table)", "ours", "/api/bottlenecks", {}),
        ("bottlenecks computed on request (alpha 0.1)", "ours", "/api/bottlenecks?alpha=0.1", {}),
        ("hotline stats (dashboard)", "ours", "/api/hotline/stats", {}),
        ("public reports list, newest 100", "ours", "/api/reports?limit=100", {}),
    ]


def prepare(size: int, *, events: bool) -> Settings:
    """The size's database, set up and loaded (idempotent); its settings.

    Not ``huegis setup``: its history step would put Huế's history back in place of the national one.
    """
    settings = Settings(db_name=f"huegis_scale_{size}")
    huegis = str(Path(sys.executable).with_name("huegis"))
    env = {**os.environ, "HUEGIS_DB_NAME": settings.db_name}
    for step in (["db", "start"], ["db", "migrate"], ["load"], ["ogc", "openapi"]):
        _run_logged([huegis, *step], BENCH_DIR / f"scale-setup-{size}.log", env)
    national = BENCH_DIR / f"scale-national-{size}.log"
    _run_logged([huegis, "synth", "national", "--reports", str(size), *([] if events else ["--no-events"])],
                national, env)  # fmt: skip
    if "unchanged" not in national.read_text():  # the KPI layer follows a new history
        _run_logged([huegis, "kpis", "refresh"], BENCH_DIR / f"scale-kpis-{size}.log", env)
    # The bottleneck job's work (only what is out of date), so the dashboard's request finds its period.
    _run_logged([huegis, "kpis", "bottlenecks"], BENCH_DIR / f"scale-bottlenecks-{size}.log", env)
    return settings


def middle_key(settings: Settings, size: int) -> int | None:
    """The report id just before row size/2 in id order: where the keyset page equal to ``offset=size/2`` starts."""
    with psycopg.connect(settings.conninfo()) as conn:
        row = conn.execute("SELECT id FROM citizen_reports ORDER BY id OFFSET %s LIMIT 1", [size // 2 - 1]).fetchone()
    return row[0] if row else None


def timed(client: httpx.Client, path: str, repeat: int, headers: dict[str, str] | None = None) -> dict:
    """The first answer's time (cold) and the median of ``repeat`` more, in ms; the statuses seen.

    A request the client gives up on (``CLIENT_TIMEOUT_S``) is not repeated: status 0.
    """
    times: list[float] = []
    statuses: list[int] = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        try:
            statuses.append(client.get(path, headers=headers).status_code)
        except httpx.TimeoutException:
            statuses.append(0)
        times.append((time.perf_counter() - started) * 1000)
        if statuses[-1] == 0:
            break
    warm = times[1:] or times
    return {"cold_ms": round(times[0], 1), "median_ms": round(statistics.median(warm), 1),
            "statuses": sorted(set(statuses))}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--sizes", default="200000,2000000", help="report counts (200000,2000000; add 20000000)")
    parser.add_argument("--no-events", dest="events", action="store_false",
                        help="load no workflow events (quicker; the bottleneck request then finds none)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=5, help="warm repetitions per request (5)")
    parser.add_argument("--only", default="", help="time only the requests whose label starts with this (e.g. items)")
    parser.add_argument("--no-setup", dest="setup", action="store_false",
                        help="time the databases as they are (no migrate, load or synth: a generator whose code "
                             "changed since the load would otherwise regenerate the history)")  # fmt: skip
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: dict[int, dict[str, dict]] = {}
    facts: dict = {}
    for size in sizes:
        print(f"[{time.monotonic() - started:7.1f}s] {size:,} reports: setting up (logs in {BENCH_DIR})", flush=True)
        settings = prepare(size, events=args.events) if args.setup else Settings(db_name=f"huegis_scale_{size}")
        servers: dict[str, Server] = {}
        try:
            servers["ours"] = start_ours(settings)
            # The second server also reads whole-month KPIs from the reports: the before of kpi_unit_month's sums.
            before = {"HUEGIS_FEATURE_COUNTS": "0", "HUEGIS_KPI_FROM_MONTHS": "false"}
            servers["count"] = start_ours(settings, name="ours-count", extra_env=before)
            results[size] = {}
            for label, which, url, headers in requests(size, middle_key(settings, size)):
                if not label.startswith(args.only):
                    continue
                with httpx.Client(base_url=servers[which].base, timeout=CLIENT_TIMEOUT_S) as client:
                    results[size][label] = timed(client, url, args.repeat, headers)
                r = results[size][label]
                print(f"  {label:55} {r['median_ms']:9.1f} ms (cold {r['cold_ms']:.1f}) {r['statuses']}", flush=True)
        finally:
            for server in servers.values():
                server.stop()
        facts = machine(settings)
    table = markdown(sizes, results)
    print("\n" + table)
    out = BENCH_DIR / f"scale-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"sizes": sizes, "events": args.events, "machine": facts, "results": results},
                               ensure_ascii=False, indent=1))  # fmt: skip
    load = facts.get("load_average", ["?"] * 3)
    print(f"\nload average {load[0]} / {load[1]} / {load[2]}; results written to {out}")
    return 0


def markdown(sizes: list[int], results: dict[int, dict[str, dict]]) -> str:
    """Median ms per request and size (cold in brackets; statuses other than 200/204 named)."""
    labels = list(dict.fromkeys(label for size in sizes for label in results.get(size, {})))
    lines = ["| request | " + " | ".join(f"{size / 1e6:g} M reports" for size in sizes) + " |",
             "|---|" + "---:|" * len(sizes)]  # fmt: skip
    for label in labels:
        cells = []
        for size in sizes:
            r = results.get(size, {}).get(label)
            if r is None:
                cells.append("")
                continue
            odd = [s for s in r["statuses"] if s not in (200, 204)]
            if odd == [0]:
                cells.append(f"> {CLIENT_TIMEOUT_S} s (client gave up)")
                continue
            cells.append(f"{r['median_ms']:,.1f} ({r['cold_ms']:,.1f})" + (f" !{odd}" if odd else ""))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
