"""HueGIS side by side with tipg, pygeoapi (stock PostgreSQL provider) and raw SQL, on Huế's data.

    .venv/bin/python -m bench [--duration 15] [--concurrency 8] [--scenarios items,tiles] [--peers tipg]

Steps: ``huegis setup`` on the bench database (cluster, schema, layers, the 183k-report history;
idempotent), install tipg in ``.data/bench/venv-tipg`` if missing, start our app, tipg and pygeoapi
(one uvicorn worker each, all on that database), then per scenario: check each server's answers
once, warm up, load for the duration at the concurrency, and run the same query as raw SQL.
Prints a table per scenario (rate, p50/p99 latency, errors, ours/this) and writes JSON to
``.data/bench/results-<timestamp>.json``.

Scenarios: items (bbox, limit 1000), paging (limit 100, 50 offsets), feature (by id), tiles
(z12-z16, cold and warm), kpi (by ward, a year), gistar (250 m grid, a month), intake
(POST /api/reports, counted afterwards and deleted), scaling (1 and 2 workers, without and with a
streaming replica: bbox, warm tiles, intake). Groups: features = items,paging,feature;
analytics = kpi,gistar. Full description: docs/benchmarks.md.

Our items pages reuse an exact count cached per layer version; tipg and pygeoapi count on every
request, so ours also runs a second time counting every request ("ours-count",
HUEGIS_FEATURE_COUNTS=0): the like-for-like table compares that one with them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path

from bench import report, scaling, scenarios, servers
from bench.load import pick_loader
from geo.settings import Settings

PEERS = ("tipg", "pygeoapi", "raw")
SCENARIOS = {**scenarios.SCENARIOS, "scaling": scaling.scaling}


def _names(text: str, known: tuple[str, ...], groups: dict[str, tuple[str, ...]], what: str) -> list[str]:
    chosen: list[str] = []
    for name in (n.strip() for n in text.split(",") if n.strip()):
        if name == "all":
            chosen += known
        elif name in groups:
            chosen += groups[name]
        elif name in known:
            chosen.append(name)
        else:
            raise SystemExit(f"unknown {what} {name!r}; choose from {', '.join((*known, *groups, 'all'))}")
    return [n for n in known if n in chosen]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds of load per server and scenario (15)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up before each load (3)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests (or SQL connections) in flight (8)")
    parser.add_argument("--scenarios", default="all", help="comma list: items,paging,feature,tiles,kpi,gistar,intake,"
                        "scaling, features, analytics, all (all)")  # fmt: skip
    parser.add_argument("--peers", default="all", help="comma list: tipg,pygeoapi,raw, all (all); ours always runs")
    parser.add_argument("--loader", choices=("auto", "wrk", "httpx"), default="auto",
                        help="load generator for GET scenarios: wrk if installed (auto), or httpx")  # fmt: skip
    parser.add_argument("--db-name", default="huegis_bench",
                        help="database of the local cluster to set up and measure (huegis_bench; never the dev DB's "
                             "reports are touched: intake rows are deleted afterwards)")  # fmt: skip
    parser.add_argument("--skip-setup", action="store_true", help="do not run `huegis setup` on the database first")
    parser.add_argument("--gi-permutations", type=int, default=999, help="permutations of the Gi* scenario (999)")
    parser.add_argument("--json", type=Path, default=None,
                        help="where to write the results (.data/bench/results-<timestamp>.json)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1:
        parser.error("--duration must be > 0, --warmup >= 0 and --concurrency >= 1")
    args.scenario_names = _names(args.scenarios, tuple(SCENARIOS), scenarios.GROUPS, "scenario")
    args.peer_names = _names(args.peers, PEERS, {}, "peer")
    return args


async def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    json_path = args.json or servers.BENCH_DIR / f"results-{stamp}.json"
    settings = Settings(db_name=args.db_name)
    loader = pick_loader(args.loader)
    servers.BENCH_DIR.mkdir(parents=True, exist_ok=True)

    def log(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {text}", flush=True)

    if not args.skip_setup:
        log(f"huegis setup on database {settings.db_name} (log: {servers.BENCH_DIR / 'setup.log'})")
        servers.prepare_database(settings)
    running: dict[str, servers.Server] = {}
    unavailable: dict[str, str] = {}
    starters = {"ours": servers.start_ours, "ours-count": servers.start_ours_counting, "tipg": servers.start_tipg,
                "pygeoapi": servers.start_pygeoapi}  # fmt: skip
    counting = {"items", "paging"} & set(args.scenario_names)
    results: list[scenarios.ScenarioResult] = []
    try:
        for name, start in starters.items():
            if name == "ours-count" and not counting:
                continue
            if name not in ("ours", "ours-count") and name not in args.peer_names:
                continue
            where = f" (tipg {servers.TIPG_VERSION} in {servers.TIPG_VENV})" if name == "tipg" else ""
            log(f"starting {name}{where}")
            try:
                running[name] = start(settings)
            except SystemExit as exc:
                if name == "ours":
                    raise
                unavailable[name] = str(exc)
                log(f"{name} is left out: {exc}")
                continue
            log(f"{name} ready on {running[name].base} after {running[name].started_s:.1f} s")
        ctx = scenarios.Context(settings, running, "raw" in args.peer_names, loader, args.duration, args.warmup,
                                args.concurrency, args.gi_permutations, started)  # fmt: skip
        log(f"load generator: {loader}; {args.duration:g} s per run after {args.warmup:g} s warm-up, "
            f"concurrency {args.concurrency}")  # fmt: skip
        for name in args.scenario_names:
            log(f"scenario {name}")
            outcome = await SCENARIOS[name](ctx)
            for result in outcome if isinstance(outcome, list) else [outcome]:
                results.append(result)
                print(report.table(result), flush=True)
    finally:
        for server in running.values():
            server.stop()
    facts = report.machine(settings)
    record = {
        "started": stamp,
        "seconds": round(time.monotonic() - started, 1),
        "machine": facts,
        "arguments": {
            "duration": args.duration,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "loader": loader,
            "scenarios": args.scenario_names,
            "peers": args.peer_names,
        },
        "unavailable": unavailable,
        "scenarios": [r.to_dict() for r in results],
    }
    report.write_json(json_path, record)
    print("\nSummary\n" + report.markdown(results))
    print("\nLike for like (each of our figures against the row doing the same work)\n" + report.like_for_like(results))
    if scaled := report.scaling_table(results):
        print("\nScaling (ours; rate and p99 latency)\n" + scaled)
    flagged = [f"{r.id}: {flag}" for r in results for flag in r.flags]
    for name, reason in unavailable.items():
        print(f"\n!! {name} did not run: {reason}")
    if flagged:
        print("\n!! flagged:\n" + "\n".join(f"   {f}" for f in flagged))
    load = facts["load_average"]
    log(f"load average {load[0]} / {load[1]} / {load[2]} on {facts['cpus']} CPUs")
    log(f"results written to {json_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
