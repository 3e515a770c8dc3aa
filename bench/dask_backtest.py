"""The hot-spot backtest in one process and on a Dask LocalCluster, side by side on the same events.

Generates a city of ``--events`` point events over ``--weeks`` weeks (moving hot spots with
near-repeats, in Chicago's UTM zone), writes them as a CSV, then runs ``huegis hotspots backtest``'s
engine twice, each in a fresh process: alone, and with ``--workers`` Dask worker processes.
Prints wall time (the cluster's start apart), peak resident memory (the process, and each worker)
and the speed-up, and checks that both runs report the same metrics.

    .venv/bin/python bench/dask_backtest.py --events 200000 --workers 2
    .venv/bin/python bench/dask_backtest.py --events 20000000 --weeks 260 --workers 8   # a bigger machine
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.settings import PROJECT_DIR

OUT = PROJECT_DIR / ".data" / "bench"


def write_city(path: Path, events: int, weeks: int, seed: int) -> None:
    """Hot spots that drift and fade over a 20 km city, 30 % of events near-repeats of an earlier one."""
    rng = np.random.default_rng(seed)
    n_spots = 40
    centre = rng.uniform(-10_000, 10_000, size=(n_spots, 2))
    drift = rng.normal(0, 40, size=(n_spots, 2))  # metres a week
    weight = rng.gamma(0.8, size=n_spots)
    life = rng.uniform(0.3, 1.0, size=n_spots) * weeks
    born = rng.uniform(-0.3, 1.0, size=n_spots) * weeks
    per_week = events / weeks
    start = pd.Timestamp("2021-01-04", tz="UTC")
    with path.open("w") as out:
        out.write("id,created_at,category,lat,lon\n")
        k = 0
        for week in range(weeks):
            alive = weight * np.exp(-(((week - born - life / 2) / life) ** 2))
            p = alive / alive.sum()
            n = rng.poisson(per_week * 0.7)
            spot = rng.choice(n_spots, size=n, p=p)
            xy = centre[spot] + drift[spot] * week + rng.normal(0, 400, size=(n, 2))
            seconds = (week * 7 + rng.uniform(0, 7, n)) * 86400
            repeat = rng.choice(n, size=rng.poisson(per_week * 0.3))
            xy = np.vstack([xy, xy[repeat] + rng.normal(0, 20, (len(repeat), 2))])
            seconds = np.concatenate([seconds, seconds[repeat] + rng.uniform(0.5, 10, len(repeat)) * 86400])
            times = (start + pd.to_timedelta(seconds, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
            lat = 41.88 + xy[:, 1] / 110_540
            lon = -87.63 + xy[:, 0] / (111_320 * np.cos(np.radians(41.88)))
            category = rng.choice(["pothole", "graffiti", "light", "trash"], len(xy))
            frame = pd.DataFrame({"id": np.arange(k, k + len(xy)), "created_at": times, "category": category,
                                  "lat": lat.round(6), "lon": lon.round(6)})  # fmt: skip
            frame.to_csv(out, header=False, index=False)
            k += len(xy)


def run_once(csv: Path, workers: int, origins: int, gbm: bool) -> dict:
    """One backtest in this process (alone, or on a local cluster of ``workers``): time, memory, report."""
    from geo.analytics.backtest import run_backtest
    from geo.analytics.distributed import cluster, dask_map, local_map
    from geo.analytics.events import place_events, read_events_csv

    began = time.perf_counter()
    events = place_events(read_events_csv(csv))
    read_s = time.perf_counter() - began
    options: dict[str, Any] = {"period": "week", "cell_m": 250.0, "origins": origins, "validation": origins, "gbm": gbm}
    began = time.perf_counter()
    worker_mb: list[float] = []
    start_s = 0.0
    if workers:
        with cluster(workers=workers) as client:
            start_s = time.perf_counter() - began
            began = time.perf_counter()
            report = run_backtest(events, **options, run=dask_map(client))
            peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            worker_mb = [kb / 1024 for kb in peaks.values()]
    else:
        report = run_backtest(events, **options, run=local_map)
    return {
        "events": len(events),
        "read_s": read_s,
        "backtest_s": time.perf_counter() - began,
        "cluster_start_s": start_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_mb": worker_mb,
        "report": {m["name"]: m["metrics"] for m in report.to_dict()["models"]},
        "chosen": report.chosen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--origins", type=int, default=26, help="scored origins (as many validation origins)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-gbm", dest="gbm", action="store_false")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # child: run with this many workers
    parser.add_argument("--csv", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_once(args.csv, args.one, args.origins, args.gbm)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    csv = OUT / f"dask-city-{args.events}-{args.weeks}-{args.seed}.csv"
    if not csv.exists():
        print(f"writing {args.events:,} events over {args.weeks} weeks to {csv} ...", file=sys.stderr)
        write_city(csv, args.events, args.weeks, args.seed)
    runs = {}
    for workers in (0, args.workers):
        label = "one process" if workers == 0 else f"LocalCluster, {workers} workers"
        print(f"{label} ...", file=sys.stderr)
        cmd = [sys.executable, __file__, "--one", str(workers), "--csv", str(csv), "--origins", str(args.origins)]
        child = subprocess.run([*cmd, *([] if args.gbm else ["--no-gbm"])], capture_output=True, text=True,
                               check=True)  # fmt: skip
        runs[label] = json.loads(child.stdout.strip().splitlines()[-1])
    one, two = runs.values()
    load = Path("/proc/loadavg").read_text()[:14]
    print(f"{one['events']:,} events, {args.origins} validation + {args.origins} scored weekly origins, "
          f"250 m hexagons, gbm {'on' if args.gbm else 'off'}; load average {load}")  # fmt: skip
    print("| run | read CSV s | cluster start s | backtest s | peak MB (process) | peak MB per worker |")
    print("|---|---|---|---|---|---|")
    for label, r in runs.items():
        workers = ", ".join(f"{mb:.0f}" for mb in r["worker_peak_mb"]) or "—"
        times = f"{r['read_s']:.1f} | {r['cluster_start_s']:.1f} | {r['backtest_s']:.1f}"
        print(f"| {label} | {times} | {r['peak_mb']:.0f} | {workers} |")
    print(f"speed-up {one['backtest_s'] / two['backtest_s']:.2f}x; same metrics: {one['report'] == two['report']}; "
          f"chosen {one['chosen']} / {two['chosen']}")  # fmt: skip


if __name__ == "__main__":
    main()
