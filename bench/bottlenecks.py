"""Precision and recall of bottleneck detection on generated histories, on seeds never used for tuning.

For each seed: generate a report history in which a few randomly chosen wards/communes became
slower in one random stage from a random day (``--onset-days``, not aligned to the detection
window: the slowdown's duration up to now is random too) by a random factor (``--factor``,
uniform 2-4 by default), and a few others are slow by nature over the whole history (``--natural``
units, every stage ×2-3, unchanged: they must not be flagged); load it into a scratch database of
the local cluster, run ``geo.analytics.bottlenecks.detect_bottlenecks`` with its default settings
at the history's end, and compare the flags with the injection (recorded in the manifest).

    .venv/bin/python bench/bottlenecks.py --seeds 1-8          # fresh seeds: the reported figures
    .venv/bin/python bench/bottlenecks.py --seeds 101-105      # tuning seeds: never reported

Scoring, per history:

* **precision**: flags that name a slowed unit and its slowed stage (or its overdue work, which
  the slowdown causes) / all flags; a flag on a unit slow by nature is a false alarm;
  **unit precision** counts flagged units instead;
* **recall**: slowed units flagged at their slowed stage / slowed units; **unit recall** counts a
  slowed unit flagged for any reason.

A unit slow by nature is indistinguishable from a slowdown without the unit's own history; the
detector tests change (own history) and distance from peers allowing for their natural spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
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
from layers.synth.reports import Slowdown

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


def seeds_of(text: str) -> list[int]:
    """``1-8`` or ``1,3,5`` → the seeds."""
    out: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        out += list(range(int(low), int(high or low) + 1))
    return out


def draw_protocol(seed: int, units: list[str], until: date, args: argparse.Namespace) -> tuple[tuple, tuple]:
    """The slowdowns (random unit, stage, onset and factor) and the units slow by nature of one seed."""
    rng = np.random.default_rng(seed)
    picked = rng.choice(units, size=args.slow + args.natural, replace=False).tolist()
    low, high = args.factor
    slowdowns = []
    for code in sorted(picked[: args.slow]):
        stage = str(rng.choice(["assigned", "in_progress"]))
        factor = round(float(rng.uniform(low, high)), 2)
        days = int(rng.integers(args.onset_days[0], args.onset_days[1] + 1))
        slowdowns.append(Slowdown(unit=code, stage=stage, factor=factor, start=until - timedelta(days=days)))
    natural = tuple((code, round(float(rng.uniform(2.0, 3.0)), 2)) for code in sorted(picked[args.slow :]))
    return tuple(slowdowns), natural


def run_seed(settings: Settings, seed: int, args: argparse.Namespace) -> dict:
    units = sorted(read_wards()["code"])
    base = history_params(settings)
    slowdowns, natural = draw_protocol(seed, units, base.until, args)
    params = replace(base, seed=seed, count=args.count, slowdowns=slowdowns, slow_by_nature=natural)
    started = time.perf_counter()
    result = load_history(settings, params, force=True, progress=False)
    loaded = time.perf_counter()
    end = datetime.combine(params.until, dtime(0), TZ)
    flags = asyncio.run(flags_at(settings, end))
    stage_of = {d.unit: d.stage for d in slowdowns}
    right = [f for f in flags if f.handler in stage_of and (f.stage == stage_of[f.handler] or f.metric == "overdue")]
    hit = {f.handler for f in flags if stage_of.get(f.handler) == f.stage}
    units_flagged = {f.handler for f in flags}
    sizes = {u["code"]: u["reports"] for u in (result.manifest or {}).get("slow_units", [])}
    return {
        "seed": seed,
        "slowdowns": [
            {**d.as_dict(), "reports": sizes.get(d.unit), "days": (params.until - d.start).days} for d in slowdowns
        ],
        "slow_by_nature": [list(pair) for pair in natural],
        "flagged": sorted(units_flagged),
        "flags": [f"{f.handler}:{f.stage or f.metric}" for f in flags],
        "missed": sorted(set(stage_of) - hit),
        "false_alarms": sorted(
            {f"{f.handler}:{f.stage or f.metric}" for f in flags}
            - {f"{f.handler}:{f.stage or f.metric}" for f in right}
        ),
        "precision": len(right) / len(flags) if flags else 1.0,
        "recall": len(hit) / len(slowdowns),
        "unit_precision": len(units_flagged & set(stage_of)) / len(units_flagged) if units_flagged else 1.0,
        "unit_recall": len(units_flagged & set(stage_of)) / len(slowdowns),
        "messages": [f.message_en for f in flags],
        "load_s": round(loaded - started, 1),
        "detect_s": round(time.perf_counter() - loaded, 2),
    }


def pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1-8", help="Seeds, e.g. 1-8 (reported) or 101-105 (tuning).")
    parser.add_argument("--count", type=int, default=183_000, help="Reports per history.")
    parser.add_argument("--slow", type=int, default=3, help="Units slowed per history.")
    parser.add_argument("--natural", type=int, default=2, help="Units slow by nature (unchanged) per history.")
    parser.add_argument("--factor", type=pair, default=(2.0, 4.0), help="Slowdown factor range, e.g. 2-4.")
    parser.add_argument("--onset-days", type=pair, default=(60, 400),
                        help="The slowdown began a random number of days in this range before the end.")  # fmt: skip
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("-v", "--verbose", action="store_true", help="Print every flag's explanation.")
    args = parser.parse_args()
    args.onset_days = (int(args.onset_days[0]), int(args.onset_days[1]))

    began = time.perf_counter()
    settings = scratch_settings()
    try:
        results = [run_seed(settings, seed, args) for seed in seeds_of(args.seeds)]
    finally:
        cluster.drop_database(settings, DB)
    elapsed = time.perf_counter() - began
    print(f"defaults: {BottleneckSettings()}")
    print(f"{'seed':>4} {'slowdowns: unit stage ×factor, days (reports)':<70} {'natural':<22} {'P':>5} {'R':>5} "
          f"{'unitP':>6} {'unitR':>6}  missed / false alarms")  # fmt: skip
    for r in results:
        slow = ", ".join(f"{d['unit']} {d['stage'][:4]} ×{d['factor']:g} {d['days']}d ({d['reports']})"
                         for d in r["slowdowns"])  # fmt: skip
        natural = ", ".join(f"{u}×{f:g}" for u, f in r["slow_by_nature"])
        print(f"{r['seed']:>4} {slow:<70} {natural:<22} {r['precision']:>5.2f} {r['recall']:>5.2f} "
              f"{r['unit_precision']:>6.2f} {r['unit_recall']:>6.2f}  {' '.join(r['missed']) or '-'} / "
              f"{' '.join(r['false_alarms']) or '-'}")  # fmt: skip
        if args.verbose:
            for message in r["messages"]:
                print(f"       {message}")
    keys = ("precision", "recall", "unit_precision", "unit_recall")
    summary = {k: float(np.mean([r[k] for r in results])) for k in keys}
    pooled_flags = sum(len(r["flags"]) for r in results)
    pooled_wrong = sum(len(r["false_alarms"]) for r in results)
    pooled_slow = sum(len(r["slowdowns"]) for r in results)
    pooled_missed = sum(len(r["missed"]) for r in results)
    print(f"mean precision {summary['precision']:.2f}, mean recall {summary['recall']:.2f} "
          f"(by unit {summary['unit_precision']:.2f} / {summary['unit_recall']:.2f}); pooled: {pooled_flags} flags, "
          f"{pooled_wrong} false; {pooled_slow} slowdowns, {pooled_missed} missed; seeds {args.seeds}, "
          f"{args.count:,} reports, {args.slow} slowed ×{args.factor[0]:g}-{args.factor[1]:g} from "
          f"{args.onset_days[0]}-{args.onset_days[1]} days before the end, {args.natural} slow by nature; "
          f"run time {elapsed:.0f} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({**summary, "run_s": round(elapsed, 1), "runs": results}, indent=1))


if __name__ == "__main__":
    main()
