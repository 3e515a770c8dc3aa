"""Precision and recall of bottleneck detection on generated histories with injected slowdowns.

For each seed: generate a report history in which a few randomly chosen wards/communes became
``--factor`` times slower in one stage ``--since-days`` before its end (the generator's
``slow_units``/``slow_since`` options, recorded in its manifest), load it into a scratch database
of the local cluster, run ``geo.analytics.bottlenecks.detect_bottlenecks`` with its default
settings at the history's end, and compare the flags with the injection.

    .venv/bin/python bench/bottlenecks.py [--seeds 3] [--count 183000] [--slow 3] [--factor 4]
                                          [--since-days 180] [--json out.json]

Scoring, per history:

* **precision**: flags that name an injected unit and its slowed stage (or its overdue work,
  which the slowdown causes) / all flags; **unit precision** counts flagged units instead;
* **recall**: injected units flagged at their slowed stage / injected units; **unit recall**
  counts an injected unit flagged for any reason.

Why a slowdown with an onset, not a unit slow over the whole history: a unit that was always
slower is indistinguishable from natural differences in pace (the generator gives every unit a
lognormal speed, sigma 0.2): a fast unit made 4x slower in one stage is only ~1.8x its peers, while
a naturally slow one measures ~2.2x in the short 'assigned' stage (clock hours jump overnight).
A bottleneck is a change in a unit's own pace, which is what the detector tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command

from geo import cluster
from geo.analytics.bottlenecks import BottleneckSettings, detect_bottlenecks
from geo.schema import alembic_config
from geo.settings import Settings
from geo.times import TZ
from layers.loaders import load_layers
from layers.reports_history import history_params, load_history
from layers.sources import read_wards

DB = "huegis_bench_bottlenecks"


def scratch_settings() -> Settings:
    base = Settings()
    if not base.external_db:
        cluster.LocalCluster(base).start()
    settings = Settings(db_name=DB, pygeoapi_openapi_file=base.data_dir / "bench" / f"{DB}.yml")
    cluster.ensure_database(settings)
    command.upgrade(alembic_config(settings.sqlalchemy_url()), "heads")
    load_layers(settings, only=["admin_units"])  # wards for routing; the catalogue comes with every load
    return settings


async def flags_at(settings: Settings, now: datetime) -> list:
    async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        return await detect_bottlenecks(conn, now=now)


def run_seed(settings: Settings, seed: int, count: int, slow: int, factor: float, since_days: int) -> dict:
    rng = np.random.default_rng(seed)
    units = sorted(read_wards()["code"])
    injected = tuple(sorted(rng.choice(units, size=slow, replace=False).tolist()))
    stage = str(rng.choice(["assigned", "in_progress"]))
    base = history_params(settings)
    params = replace(base, seed=seed, count=count, slow_units=injected, slow_stage=stage, slow_factor=factor,
                     slow_since=base.until - timedelta(days=since_days))  # fmt: skip
    started = time.perf_counter()
    result = load_history(settings, params, force=True, progress=False)
    loaded = time.perf_counter()
    end = datetime.combine(params.until, dtime(0), TZ)
    flags = asyncio.run(flags_at(settings, end))
    right = [f for f in flags if f.handler in injected and (f.stage == stage or f.metric == "overdue")]
    hit = {f.handler for f in flags if f.stage == stage} & set(injected)
    units_flagged = {f.handler for f in flags}
    sizes = {u["code"]: u["reports"] for u in (result.manifest or {}).get("slow_units", [])}
    return {
        "seed": seed,
        "stage": stage,
        "injected": list(injected),
        "injected_reports": [sizes.get(u) for u in injected],
        "flagged": sorted(units_flagged),
        "flags": [f"{f.handler}:{f.stage or f.metric}" for f in flags],
        "precision": len(right) / len(flags) if flags else 1.0,
        "recall": len(hit) / len(injected),
        "unit_precision": len(units_flagged & set(injected)) / len(units_flagged) if units_flagged else 1.0,
        "unit_recall": len(units_flagged & set(injected)) / len(injected),
        "messages": [f.message_en for f in flags],
        "load_s": round(loaded - started, 1),
        "detect_s": round(time.perf_counter() - loaded, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="How many histories (seeds 1..N).")
    parser.add_argument("--count", type=int, default=183_000, help="Reports per history.")
    parser.add_argument("--slow", type=int, default=3, help="Slow units injected per history.")
    parser.add_argument("--factor", type=float, default=4.0, help="How many times slower they become in the stage.")
    parser.add_argument("--since-days", type=int, default=180, help="The slowdown began this many days before the end.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("-v", "--verbose", action="store_true", help="Print every flag's explanation.")
    args = parser.parse_args()

    began = time.perf_counter()
    settings = scratch_settings()
    try:
        results = [run_seed(settings, seed, args.count, args.slow, args.factor, args.since_days)
                   for seed in range(1, args.seeds + 1)]  # fmt: skip
    finally:
        cluster.drop_database(settings, DB)
    elapsed = time.perf_counter() - began
    print(f"defaults: {BottleneckSettings()}")
    print(f"{'seed':>4} {'stage':<12} {'injected (reports)':<36} {'flags':<44} {'P':>5} {'R':>5} {'unitP':>6} "
          f"{'unitR':>6} {'detect s':>8}")  # fmt: skip
    for r in results:
        injected = ",".join(f"{u}({n})" for u, n in zip(r["injected"], r["injected_reports"], strict=True))
        print(f"{r['seed']:>4} {r['stage']:<12} {injected:<36} {' '.join(r['flags']) or '-':<44} "
              f"{r['precision']:>5.2f} {r['recall']:>5.2f} {r['unit_precision']:>6.2f} {r['unit_recall']:>6.2f} "
              f"{r['detect_s']:>8.2f}")  # fmt: skip
        if args.verbose:
            for message in r["messages"]:
                print(f"       {message}")
    summary = {k: float(np.mean([r[k] for r in results])) for k in ("precision", "recall", "unit_precision",
                                                                     "unit_recall")}  # fmt: skip
    print(f"mean precision {summary['precision']:.2f}, mean recall {summary['recall']:.2f} "
          f"(by unit {summary['unit_precision']:.2f} / {summary['unit_recall']:.2f}) over {len(results)} histories "
          f"({args.count:,} reports, {args.slow} units ×{args.factor:g} slower in one stage for the last "
          f"{args.since_days} days); run time {elapsed:.0f} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({**summary, "run_s": round(elapsed, 1), "runs": results}, indent=1))


if __name__ == "__main__":
    main()
