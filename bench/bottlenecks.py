"""Precision and recall of bottleneck detection on generated histories, on seeds never used for tuning.

For each seed: generate a report history in which a few random wards/communes among those handling
at least ``--min-reports`` reports a year (``--small``: among the others, the detector's blind spot)
became slower in one random stage from a random day (``--onset-days``, aligned with nothing in the
detector: the slowdown's duration up to now is random too) by a random factor (``--factor``, uniform
2-4 by default), and a few others are slow by nature over the whole history (``--natural`` units of
any size, every stage ×2-3, unchanged: they must not be flagged); load it into a scratch database of
the local cluster, run ``geo.analytics.bottlenecks.detect_bottlenecks`` with its default settings at
the history's end, and compare the flags with the injection (recorded in the manifest).

    .venv/bin/python bench/bottlenecks.py --seeds 101-105      # tuning seeds: never reported
    .venv/bin/python bench/bottlenecks.py --seeds 1-8          # fresh seeds: the reported figures
    .venv/bin/python bench/bottlenecks.py --seeds 1-8 --small  # what it misses: slowdowns in small units

With ``--inputs DIR`` each seed's detector rows (and its protocol) are kept in DIR and scored from there
the next time, so histories can be generated while the detector is still being fixed
(``--prepare-only``: no detection at all) and scored once afterwards, in seconds.

Scoring, per history (and pooled over the seeds):

* **precision**: right flags / all flags. A flag is right when it names a slowed unit and its slowed
  stage (or its overdue work, which the slowdown causes), or when it is a backlog-growth flag on
  another unit that is not slow by nature and the reports bear it out (recounted here in pandas
  from the plain rows, not by the detector's query); a flag on a unit slow by nature is a false
  alarm. **unit precision** counts flagged units instead (backlog-growth flags aside);
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
import pandas as pd
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command

from geo import cluster
from geo.analytics.bottlenecks import BottleneckSettings, Flag, Inputs, fetch_inputs, find_bottlenecks
from geo.schema import alembic_config
from geo.settings import Settings
from geo.times import TZ
from layers.loaders import load_layers
from layers.reports_history import history_params, load_history
from layers.sources import read_wards
from layers.synth.reports import DEFAULT_UNTIL, Slowdown


def scratch_settings(db: str) -> Settings:
    base = Settings()
    if not base.external_db:
        cluster.LocalCluster(base).start()
    # A fixed end (not the day of the run, setup's default): every run draws the same histories.
    until = base.history_until or DEFAULT_UNTIL
    settings = Settings(db_name=db, history_until=until, pygeoapi_openapi_file=base.data_dir / "bench" / f"{db}.yml")
    cluster.ensure_database(settings)
    command.upgrade(alembic_config(settings.sqlalchemy_url()), "heads")
    load_layers(settings, only=["admin_units"])  # wards for routing; the catalogue comes with every load
    return settings


async def inputs_at(settings: Settings, now: datetime, cfg: BottleneckSettings) -> Inputs:
    async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        return await fetch_inputs(conn, now=now, settings=cfg)


def seeds_of(text: str) -> list[int]:
    """``1-8`` or ``1,3,5`` → the seeds."""
    out: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        out += list(range(int(low), int(high or low) + 1))
    return out


def unit_volumes(settings: Settings, args: argparse.Namespace) -> dict[str, int]:
    """Reports each ward/commune handles in the last year of the project's own history (no slowdown, not a seed's)."""
    from layers.reports_history import build_history

    base = replace(history_params(settings), count=args.count)
    reports = build_history(settings, base).reports
    since = pd.Timestamp(base.until - timedelta(days=365), tz="UTC")
    recent = reports[(reports["responsible_level"] == "ward") & (pd.to_datetime(reports["received_at"]) >= since)]
    counts = recent.groupby("admin_unit_code").size()
    return {code: int(counts.get(code, 0)) for code in sorted(read_wards()["code"])}


def draw_protocol(seed: int, volumes: dict[str, int], until: date, args: argparse.Namespace) -> tuple[tuple, tuple]:
    """The slowdowns (random unit, stage, onset and factor) and the units slow by nature of one seed.

    Slowed units are drawn among those handling at least ``--min-reports`` reports a year (``--small``:
    among the others); units slow by nature among all the rest.
    """
    rng = np.random.default_rng(seed)
    big = [u for u, n in volumes.items() if n >= args.min_reports]
    pool = [u for u in volumes if u not in big] if args.small else big
    slowed = sorted(rng.choice(pool, size=args.slow, replace=False).tolist())
    others = [u for u in volumes if u not in slowed]
    natural_units = sorted(rng.choice(others, size=args.natural, replace=False).tolist())
    low, high = args.factor
    slowdowns = []
    for code in slowed:
        stage = str(rng.choice(["assigned", "in_progress"]))
        factor = round(float(rng.uniform(low, high)), 2)
        days = int(rng.integers(args.onset_days[0], args.onset_days[1] + 1))
        slowdowns.append(Slowdown(unit=code, stage=stage, factor=factor, start=until - timedelta(days=days)))
    natural = tuple((code, round(float(rng.uniform(2.0, 3.0)), 2)) for code in natural_units)
    return tuple(slowdowns), natural


def fell_overdue(settings: Settings, now: datetime, days: int, periods: int) -> dict[str, list[int]]:
    """Per handler, reports fallen overdue and still open in each of the last periods (latest first).

    Computed here in pandas from the plain report rows, not by the detector's query: it checks that a
    backlog-growth flag states a fact of the generated history.
    """
    with psycopg.connect(settings.conninfo()) as conn:
        rows = conn.execute(
            "SELECT CASE WHEN c.level = 'city' THEN c.department ELSE r.admin_unit_code END, r.due_at, r.resolved_at "
            "FROM citizen_reports r JOIN report_categories c ON c.code = r.category "
            "WHERE r.status NOT IN ('rejected', 'duplicate') AND r.due_at IS NOT NULL"
        ).fetchall()
    frame = pd.DataFrame(rows, columns=["handler", "due", "resolved"])
    out: dict[str, list[int]] = {}
    for k in range(periods + 1):
        cut = pd.Timestamp(now - timedelta(days=k * days))
        late = (frame["due"] >= cut - pd.Timedelta(days=days)) & (frame["due"] < cut)
        still = frame["resolved"].isna() | (frame["resolved"] >= cut)
        for handler, n in frame[late & still].groupby("handler").size().items():
            out.setdefault(str(handler), [0] * (periods + 1))[k] = int(n)
    return out


def prepare_seed(settings: Settings, seed: int, volumes: dict[str, int], args: argparse.Namespace) -> dict:
    """Generate and load one seed's history; its protocol, the detector's rows at the end and the recount."""
    base = history_params(settings)
    slowdowns, natural = draw_protocol(seed, volumes, base.until, args)
    params = replace(base, seed=seed, count=args.count, slowdowns=slowdowns, slow_by_nature=natural)
    started = time.perf_counter()
    load_history(settings, params, force=True, progress=False)
    end = datetime.combine(params.until, dtime(0), TZ)
    cfg = BottleneckSettings()
    return {
        "seed": seed,
        "until": params.until,
        "slowdowns": slowdowns,
        "natural": natural,
        "volumes": volumes,
        "inputs": asyncio.run(inputs_at(settings, end, cfg)),
        "inflow": fell_overdue(settings, end, cfg.growth_days, cfg.growth_periods),
        "load_s": round(time.perf_counter() - started, 1),
    }


def score_seed(record: dict, cfg: BottleneckSettings) -> dict:
    """Run the detector on one seed's rows and score its flags against the injection."""
    slowdowns, natural, volumes, inflow = record["slowdowns"], record["natural"], record["volumes"], record["inflow"]
    started = time.perf_counter()
    flags = find_bottlenecks(record["inputs"], cfg)
    detected = time.perf_counter()
    stage_of = {d.unit: d.stage for d in slowdowns}
    slow_natured = {u for u, _ in natural}

    def right(f: Flag) -> bool:
        """The slowed stage, or the overdue work the slowdown causes; a pile-up flag that the history bears out."""
        if f.handler in stage_of:
            return f.stage == stage_of[f.handler] or f.stage is None
        if f.metric == "backlog_growth" and f.handler not in slow_natured:
            counts = inflow.get(f.handler, [0] * (cfg.growth_periods + 1))
            usual = float(np.mean(counts[1:]))
            return counts[0] == f.value and counts[0] >= cfg.min_ratio * max(usual, 0.5)
        return False

    good = [f for f in flags if right(f)]
    hit = {f.handler for f in flags if f.handler in stage_of and stage_of[f.handler] == f.stage}
    units_flagged = {f.handler for f in flags if f.metric != "backlog_growth" or f.handler in stage_of}
    return {
        "seed": record["seed"],
        "slowdowns": [
            {**d.as_dict(), "reports_a_year": volumes.get(d.unit), "days": (record["until"] - d.start).days}
            for d in slowdowns
        ],
        "slow_by_nature": [list(pair) for pair in natural],
        "flagged": sorted(units_flagged),
        "flags": [f"{f.handler}:{f.stage or f.metric}" for f in flags],
        "pile_ups": [
            f"{f.handler}:{int(f.value)} vs {f.own_history:.1f}"
            for f in flags
            if f.metric == "backlog_growth" and f.handler not in stage_of
        ],
        "missed": sorted(set(stage_of) - hit),
        "false_alarms": sorted({f"{f.handler}:{f.stage or f.metric}" for f in flags if not right(f)}),
        "precision": len(good) / len(flags) if flags else 1.0,
        "recall": len(hit) / len(slowdowns),
        "unit_precision": len(units_flagged & set(stage_of)) / len(units_flagged) if units_flagged else 1.0,
        "unit_recall": len(units_flagged & set(stage_of)) / len(slowdowns),
        "messages": [f.message_en for f in flags],
        "load_s": record["load_s"],
        "detect_s": round(detected - started, 2),
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
    parser.add_argument(
        "--min-reports",
        type=int,
        default=50,
        help="Slowed units handle at least this many reports a year (the detector's range).",
    )
    parser.add_argument(
        "--small", action="store_true", help="Slow units below --min-reports instead: what the detector misses."
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--db", default="huegis_bench_bottlenecks", help="Scratch database (dropped at the end).")
    parser.add_argument("--inputs", type=Path,
                        help="Keep each seed's detector rows here: a seed saved before is scored without "
                        "generating its history again (same protocol options required).")  # fmt: skip
    parser.add_argument("--prepare-only", action="store_true",
                        help="With --inputs: generate, load and save the seeds' rows, run no detection.")  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="Print every flag's explanation.")
    args = parser.parse_args()
    args.onset_days = (int(args.onset_days[0]), int(args.onset_days[1]))
    if args.prepare_only and not args.inputs:
        parser.error("--prepare-only needs --inputs")
    protocol = {
        k: getattr(args, k) for k in ("count", "slow", "natural", "factor", "onset_days", "min_reports", "small")
    }

    began = time.perf_counter()
    records = {}
    for seed in seeds_of(args.seeds):
        path = args.inputs / f"seed-{seed}.pkl" if args.inputs else None
        if path and path.exists():
            records[seed] = pd.read_pickle(path)
            if records[seed]["protocol"] != protocol:
                raise SystemExit(f"{path} was prepared with {records[seed]['protocol']}, not {protocol}")
    todo = [seed for seed in seeds_of(args.seeds) if seed not in records]
    if todo:
        settings = scratch_settings(args.db)
        try:
            volumes = unit_volumes(settings, args)
            if args.small and sum(n < args.min_reports for n in volumes.values()) < args.slow:
                raise SystemExit(f"fewer than {args.slow} units handle under {args.min_reports} reports a year")
            for seed in todo:
                records[seed] = {**prepare_seed(settings, seed, volumes, args), "protocol": protocol}
                if args.inputs:
                    args.inputs.mkdir(parents=True, exist_ok=True)
                    pd.to_pickle(records[seed], args.inputs / f"seed-{seed}.pkl")
                print(f"seed {seed}: history loaded in {records[seed]['load_s']:.0f} s", flush=True)
        finally:
            cluster.drop_database(settings, args.db)
    if args.prepare_only:
        print(f"seeds {args.seeds} prepared in {args.inputs}, {time.perf_counter() - began:.0f} s; no detection run")
        return
    results = [score_seed(records[seed], BottleneckSettings()) for seed in seeds_of(args.seeds)]
    volumes = records[seeds_of(args.seeds)[0]]["volumes"]
    elapsed = time.perf_counter() - began
    print(f"defaults: {BottleneckSettings()}")
    print(f"{'seed':>4} {'slowdowns: unit stage ×factor, days (reports a year)':<70} {'natural':<22} {'P':>5} {'R':>5} "
          f"{'unitP':>6} {'unitR':>6}  missed / false alarms")  # fmt: skip
    for r in results:
        slow = ", ".join(f"{d['unit']} {d['stage'][:4]} ×{d['factor']:g} {d['days']}d ({d['reports_a_year']})"
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
    pile_ups = [p for r in results for p in r["pile_ups"]]
    summary["pooled_precision"] = (pooled_flags - pooled_wrong) / pooled_flags if pooled_flags else 1.0
    summary["pooled_recall"] = (pooled_slow - pooled_missed) / pooled_slow
    big = sum(n >= args.min_reports for n in volumes.values())
    print(
        f"pooled precision {summary['pooled_precision']:.3f} ({pooled_flags} flags, {pooled_wrong} false), pooled "
        f"recall {summary['pooled_recall']:.3f} ({pooled_slow} slowdowns, {pooled_missed} missed); mean per seed "
        f"{summary['precision']:.2f} / {summary['recall']:.2f} (by unit {summary['unit_precision']:.2f} / "
        f"{summary['unit_recall']:.2f})"
    )
    print(
        f"seeds {args.seeds}, {args.count:,} reports, {args.slow} slowed ×{args.factor[0]:g}-{args.factor[1]:g} "
        f"from {args.onset_days[0]}-{args.onset_days[1]} days before the end among the "
        f"{'small' if args.small else big} units {'under' if args.small else 'with at least'} {args.min_reports} "
        f"reports a year ({big} of {len(volumes)} have that many), {args.natural} slow by nature; pile-ups flagged "
        f"on other units (checked against the reports): {', '.join(pile_ups) or 'none'}; run time {elapsed:.0f} s"
    )
    if args.json:
        args.json.write_text(json.dumps({**summary, "run_s": round(elapsed, 1), "volumes": volumes, "runs": results},
                                        indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
