"""The scaling table: ours with 1 and 2 workers, without and with a streaming replica.

For each configuration a fresh server of ours (rate limits off) is started on the bench database;
with a replica, the bench cluster's local replica 1 (``huegis db replica``) serves its public
reads. Measured for each: the bbox items page and the warm tiles (wrk, like the GET scenarios),
intake at full speed (wrk, ``INTAKE_CONCURRENCY`` connections) and intake paced to about
``PACED_RATE`` reports/s (its p99 is the figure of interest); every acknowledged report is looked
up afterwards (lost, duplicated) and the bench reports deleted.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid

from bench.load import Measurement, check_paths, http_load, wrk_intake
from bench.scenarios import (
    BBOX,
    BBOX_LIMIT,
    COLLECTION_PATHS,
    INTAKE_PREFIX,
    Context,
    ScenarioResult,
    error_flags,
    intake_categories,
    tally_intake,
    tile_paths,
)
from bench.servers import start_ours
from geo.cluster import LocalCluster
from geo.replicas import LocalReplica

CONFIGS = ((1, 0), (2, 0), (1, 1), (2, 1))  # (workers, replicas)
INTAKE_CONCURRENCY = 32
PACED_CONCURRENCY = 8
PACED_RATE = 200.0


def label(workers: int, replicas: int) -> str:
    return f"{workers} worker{'s' if workers > 1 else ''}" + (" + replica" if replicas else "")


async def scaling(ctx: Context) -> list[ScenarioResult]:
    """bbox items, warm tiles and intake (full speed, paced) for each configuration."""
    if not shutil.which("wrk"):
        note = "the scaling table needs wrk (Debian: apt-get install wrk)"
        return [ScenarioResult("scaling", note, "req/s", [], flags=[note])]
    replica = None if ctx.settings.external_db else LocalReplica(LocalCluster(ctx.settings), 1)
    started_replica = False
    categories = await intake_categories(ctx.settings)
    bbox_path = f"{COLLECTION_PATHS['ours']}/items?bbox={','.join(map(str, BBOX))}&limit={BBOX_LIMIT}"
    rows: dict[str, list[Measurement]] = {"bbox": [], "tiles": [], "intake": [], "paced": []}
    checks: dict[str, list[str]] = {key: [] for key in rows}
    flags: dict[str, list[str]] = {key: [] for key in rows}
    try:
        for workers, replicas in CONFIGS:
            name = label(workers, replicas)
            if replicas and replica is None and not ctx.settings.db_replica_urls:
                checks["bbox"].append(f"{name}: skipped (an external database without HUEGIS_DB_REPLICA_URLS)")
                continue
            if replicas and replica is not None and not replica.running():
                ctx.log(f"  starting the bench cluster's replica on port {replica.port}")
                await asyncio.to_thread(replica.start)
                started_replica = True
            env = {"HUEGIS_LOCAL_REPLICAS": str(replicas if replica is not None else 0)}
            if not replicas:
                env["HUEGIS_DB_REPLICA_URLS"] = "[]"
            ctx.log(f"  {name}: starting ours")
            server = await asyncio.to_thread(start_ours, ctx.settings, name=f"scale-{workers}w{replicas}r",
                                             workers=workers, extra_env=env)  # fmt: skip
            try:
                await _measure(ctx, server.base, name, bbox_path, categories, rows, checks, flags)
            finally:
                server.stop()
    finally:
        if started_replica and replica is not None:
            replica.stop()
    unit = {"bbox": "req/s", "tiles": "tiles/s", "intake": "reports/s", "paced": "reports/s"}
    titles = {
        "bbox": f"scaling: items?bbox=<centre>&limit={BBOX_LIMIT}",
        "tiles": "scaling: 45 citizen_reports tiles, warm (cache hits)",
        "intake": f"scaling: POST /api/reports at full speed, {INTAKE_CONCURRENCY} connections",
        "paced": f"scaling: POST /api/reports paced to ~{PACED_RATE:g}/s, {PACED_CONCURRENCY} connections",
    }
    return [
        ScenarioResult(
            f"scale-{key}",
            titles[key],
            unit[key],
            measured,
            checks[key],
            flags[key] + ([] if key in ("intake", "paced") else error_flags(measured)),  # intake: tallied
            no_ratio="configurations, not peers",
        )
        for key, measured in rows.items()
    ]


async def _measure(ctx: Context, base: str, name: str, bbox_path: str, categories: list[str],
                   rows: dict[str, list[Measurement]], checks: dict[str, list[str]],
                   flags: dict[str, list[str]]) -> None:  # fmt: skip
    """One configuration's four measurements, appended to ``rows`` (named after it)."""
    for key, paths in (("bbox", [bbox_path]), ("tiles", tile_paths()["ours"])):
        for _ in range(2):  # fill the caches of every worker
            await check_paths(base, paths, concurrency=ctx.concurrency)
        m = await http_load(name, base, paths, loader=ctx.loader, concurrency=ctx.concurrency,
                            duration=ctx.duration, warmup=ctx.warmup)  # fmt: skip
        ctx.log(f"  {name}: {key} {m.rate:.1f}/s, p99 {m.p99_ms:.1f} ms")
        rows[key].append(m)
    for key, concurrency, rate in (("intake", INTAKE_CONCURRENCY, None), ("paced", PACED_CONCURRENCY, PACED_RATE)):
        prefix = f"{INTAKE_PREFIX}{uuid.uuid4().hex[:12]}-"
        if ctx.warmup >= 1:
            await asyncio.to_thread(wrk_intake, base, key_prefix=prefix + "w", categories=categories,
                                    concurrency=concurrency, duration=ctx.warmup, rate=rate)  # fmt: skip
        m, codes = await asyncio.to_thread(wrk_intake, base, key_prefix=prefix + "m", categories=categories,
                                           concurrency=concurrency, duration=ctx.duration, rate=rate)  # fmt: skip
        m.server = name
        found, wrong = await tally_intake(ctx.settings, prefix + "m", [c for c in codes if c != "?"], m)
        checks[key] += [f"{name}: {line}" for line in found[:2]]
        flags[key] += wrong
        ctx.log(f"  {name}: {key} {m.rate:.1f} reports/s, p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms")
        rows[key].append(m)
