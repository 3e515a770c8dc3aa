"""Precision and recall of bottleneck detection on generated histories with injected slow units.

For each seed: generate a report history in which a few randomly chosen wards/communes take
``--factor`` times longer in one stage (the generator's ``slow_units`` option, which records them
in its manifest), load it into a scratch database of the local cluster, run
``geo.analytics.bottlenecks.detect_bottlenecks`` with its default settings at the history's end,
and compare the flagged handlers with the injected ones.

    .venv/bin/python bench/bottlenecks.py [--seeds 3] [--count 183000] [--slow 3] [--json out.json]

A flagged unit counts as a true positive when it is one of the injected units (by either test:
stage dwell or overdue work); "stage hits" also require the flagged stage to be the slowed one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import replace
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command

from geo import cluster
from geo.analytics.bottlenecks import detect_bottlenecks
from geo.cli import alembic_config
from geo.reports.sla import TZ
from geo.settings import Settings
from layers.loaders import load_layers, read_wards
from layers.reports_history import history_params, load_history

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


def run_seed(settings: Settings, seed: int, count: int, slow: int, factor: float) -> dict:
    rng = np.random.default_rng(seed)
    units = sorted(read_wards()["code"])
    injected = tuple(sorted(rng.choice(units, size=slow, replace=False).tolist()))
    stage = str(rng.choice(["assigned", "in_progress"]))
    params = replace(history_params(settings), seed=seed, count=count, slow_units=injected, slow_stage=stage,
                     slow_factor=factor)  # fmt: skip
    started = time.perf_counter()
    load_history(settings, params, force=True, progress=False)
    loaded = time.perf_counter()
    end = datetime.combine(params.until, dtime(0), TZ)
    flags = asyncio.run(flags_at(settings, end))
    detected = {f.handler for f in flags}
    stage_hits = {f.handler for f in flags if f.metric == "stage_dwell" and f.stage == stage} & set(injected)
    true_positives = detected & set(injected)
    return {
        "seed": seed,
        "stage": stage,
        "injected": list(injected),
        "flagged": sorted(detected),
        "precision": len(true_positives) / len(detected) if detected else 1.0,
        "recall": len(true_positives) / len(injected),
        "stage_recall": len(stage_hits) / len(injected),
        "flags": len(flags),
        "load_s": round(loaded - started, 1),
        "detect_s": round(time.perf_counter() - loaded, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="How many histories (seeds 1..N).")
    parser.add_argument("--count", type=int, default=183_000, help="Reports per history.")
    parser.add_argument("--slow", type=int, default=3, help="Slow units injected per history.")
    parser.add_argument("--factor", type=float, default=4.0, help="How many times slower they are in the stage.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()

    settings = scratch_settings()
    try:
        results = [run_seed(settings, seed, args.count, args.slow, args.factor) for seed in range(1, args.seeds + 1)]
    finally:
        cluster.drop_database(settings, DB)
    print(f"{'seed':>4} {'stage':<12} {'injected':<20} {'flagged':<28} {'precision':>9} {'recall':>6} {'stage':>6}")
    for r in results:
        print(f"{r['seed']:>4} {r['stage']:<12} {','.join(r['injected']):<20} {','.join(r['flagged']) or '-':<28} "
              f"{r['precision']:>9.2f} {r['recall']:>6.2f} {r['stage_recall']:>6.2f}")  # fmt: skip
    precision = float(np.mean([r["precision"] for r in results]))
    recall = float(np.mean([r["recall"] for r in results]))
    print(f"mean precision {precision:.2f}, mean recall {recall:.2f} over {len(results)} histories "
          f"({args.count:,} reports, {args.slow} slow units ×{args.factor:g} each)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"precision": precision, "recall": recall, "runs": results}, indent=1))


if __name__ == "__main__":
    main()
