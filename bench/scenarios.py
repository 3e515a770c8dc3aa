"""The scenarios on Huế's data: features, feature by id, vector tiles, report intake, analytics.

Each scenario runs every available server on the same request list, then the same query as raw
SQL through psycopg (no HTTP), and checks that the servers answered alike (feature counts,
statuses, tile sizes) before their numbers are compared.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from psycopg import AsyncConnection, sql

from bench.load import Measurement, check_paths, drive, http_load, httpx_load, percentile, wrk_intake
from bench.servers import LAYER, TIPG_COLLECTION, Server
from bench.tiles import CENTRE, TMS
from geo.analytics.kpis import GROUP_KEYS
from geo.db import load_sql
from geo.settings import Settings
from geo.times import TZ
from tiles.cache import DEFAULT_VERSION_TTL_S
from tiles.vector import TILESETS, render_tile

SQL_DIR = Path(__file__).with_name("sql")
# A 1.5 x 1.7 km box in Huế's centre (the citadel's south-east, across the Perfume River).
BBOX = (107.5725, 16.4525, 107.5875, 16.4675)
BBOX_LIMIT = 1000
PAGE_LIMIT = 100
PAGE_OFFSETS = tuple(range(0, 50_000, 1_000))
FEATURE_IDS = 50
TILE_ZOOMS = range(12, 17)
KPI_YEAR = (datetime(2025, 1, 1, tzinfo=TZ), datetime(2026, 1, 1, tzinfo=TZ))
GI_MONTH = ("2026-10-01", "2026-11-01")
GI_CELL_M = 250.0
INTAKE_PREFIX = "bench-"

# Where each server publishes citizen_reports. "ours-count" is ours counting numberMatched on
# every request (HUEGIS_FEATURE_COUNTS=0), as tipg and pygeoapi do: the like-for-like figure.
COLLECTION_PATHS = {
    "ours": f"/ogc/collections/{LAYER.id}",
    "ours-count": f"/ogc/collections/{LAYER.id}",
    "tipg": f"/collections/{TIPG_COLLECTION}",
    "pygeoapi": f"/collections/{LAYER.id}",
}
TILE_SERVERS = ("ours", "tipg")


@dataclass
class Context:
    """What every scenario needs: the settings, the running servers and the run's bounds."""

    settings: Settings
    servers: dict[str, Server]
    raw: bool
    loader: str
    duration: float
    warmup: float
    concurrency: int
    gi_permutations: int
    started: float = field(default_factory=time.monotonic)

    def log(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", flush=True)


@dataclass
class ScenarioResult:
    """One scenario: its measurements (ours first), what was checked, and whether anything went wrong."""

    id: str
    title: str
    unit: str
    measurements: list[Measurement]
    checks: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    # Why the rows are not compared (e.g. a cache against none): then no ratios are shown.
    no_ratio: str | None = None

    def to_dict(self) -> dict[str, Any]:
        ours = next((m for m in self.measurements if m.server == "ours"), None)
        rows = []
        for m in self.measurements:
            ratio = ours.rate / m.rate if ours and m.rate and not self.no_ratio else None
            rows.append({**m.to_dict(), "ours_over_this": round(ratio, 3) if ratio else None})
        return {"id": self.id, "title": self.title, "unit": self.unit, "checks": self.checks, "flags": self.flags,
                "no_ratio": self.no_ratio, "results": rows}  # fmt: skip


def bench_sql(name: str, **identifiers: sql.Composable) -> sql.Composed:
    """A statement of ``bench/sql`` with its identifiers filled in."""
    return sql.SQL((SQL_DIR / f"{name}.sql").read_text()).format(**identifiers)


def feature_sql(name: str) -> sql.Composed:
    """A raw GeoJSON statement for citizen_reports with the layer's public fields as properties."""
    properties = sql.SQL(", ").join(
        sql.SQL("{}, f.{}").format(sql.Literal(column), sql.Identifier(column)) for column in LAYER.fields
    )
    return bench_sql(name, id_field=sql.Identifier(LAYER.id_field), table=sql.Identifier(LAYER.table_name),
                     properties=properties)  # fmt: skip


async def raw_load(
    ctx: Context, params: Sequence[Any], call: Callable[[AsyncConnection, Any], Awaitable[bool]]
) -> Measurement:
    """``call(conn, params[n])`` on ``concurrency`` connections for the duration: the no-HTTP limit."""
    conns = [await AsyncConnection.connect(ctx.settings.conninfo(), autocommit=True) for _ in range(ctx.concurrency)]
    try:

        async def step(worker: int, n: int) -> bool:
            return await call(conns[worker], params[n % len(params)])

        if ctx.warmup > 0:
            await drive(step, workers=len(conns), duration=min(ctx.warmup, 2.0))
        result = await drive(step, workers=len(conns), duration=ctx.duration)
    finally:
        for conn in conns:
            await conn.close()
    result.server, result.loader = "raw SQL", "psycopg"
    return result


async def fetch_text(conn: AsyncConnection, query: sql.Composed, params: dict[str, Any]) -> bool:
    async with conn.cursor() as cur:
        await cur.execute(query, params)
        row = await cur.fetchone()
    return row is not None and row[0] is not None


async def measure_servers(ctx: Context, names: Sequence[str], paths: dict[str, list[str]]) -> list[Measurement]:
    """The load run of each named server that is up, one after the other."""
    results = []
    for name in names:
        if name not in ctx.servers:
            continue
        ctx.log(f"  {name}: warm-up {ctx.warmup:g} s, then {ctx.duration:g} s at concurrency {ctx.concurrency}")
        m = await http_load(name, ctx.servers[name].base, paths[name], loader=ctx.loader,
                            concurrency=ctx.concurrency, duration=ctx.duration, warmup=ctx.warmup)  # fmt: skip
        ctx.log(f"  {name}: {m.rate:.1f} req/s, p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms, {m.errors} errors")
        results.append(m)
    return results


async def check_servers(ctx: Context, names: Iterable[str], paths: dict[str, list[str]]) -> dict[str, Any]:
    """Each server's answers to its path list, once, before the load: statuses and bodies."""
    answers = {}
    for name in names:
        if name in ctx.servers:
            answers[name] = await check_paths(ctx.servers[name].base, paths[name])
    return answers


def status_flags(answers: dict[str, Any]) -> list[str]:
    """Non-2xx answers and invalid JSON bodies of the check pass."""
    flags = [f"{name}: {a.non_2xx} non-2xx answers in the check pass {a.statuses}" for name, a in answers.items()
             if a.non_2xx]  # fmt: skip
    for name, a in answers.items():
        if a.invalid_json:
            flags.append(f"{name}: {len(a.invalid_json)} invalid JSON bodies, e.g. {a.invalid_json[0]}")
    return flags


def error_flags(measurements: Sequence[Measurement]) -> list[str]:
    """Errors during the load, and runs in which no request completed (every one slower than the run)."""
    flags = [f"{m.server}: {m.errors} errors during the load" for m in measurements if m.errors]
    return flags + [f"{m.server}: no request completed in {m.seconds:.0f} s" for m in measurements if not m.requests]


# --- 1. features -----------------------------------------------------------------------------------


async def items_bbox(ctx: Context) -> ScenarioResult:
    """``items?bbox=<1.5 km box>&limit=1000`` on citizen_reports."""
    bbox = ",".join(map(str, BBOX))
    paths = {name: [f"{prefix}/items?bbox={bbox}&limit={BBOX_LIMIT}"] for name, prefix in COLLECTION_PATHS.items()}
    answers = await check_servers(ctx, COLLECTION_PATHS, paths)
    checks = []
    for name, a in answers.items():
        body = a.bodies[0] if a.bodies else {}
        checks.append(f"{name}: {len(body.get('features', []))} features returned, "
                      f"numberMatched {body.get('numberMatched')}, {a.bytes / 1024:.0f} KiB")  # fmt: skip
    returned = {len(a.bodies[0].get("features", [])) if a.bodies else None for a in answers.values()}
    flags = status_flags(answers) + ([f"feature counts differ: {checks}"] if len(returned) > 1 else [])
    results = await measure_servers(ctx, list(COLLECTION_PATHS), paths)
    if ctx.raw:
        query = feature_sql("feature_collection_bbox")
        minx, miny, maxx, maxy = BBOX
        params = [{"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy, "limit": BBOX_LIMIT}]
        results.append(await raw_load(ctx, params, lambda conn, p: fetch_text(conn, query, p)))
    return ScenarioResult("items-bbox", f"items?bbox=<{bbox}>&limit={BBOX_LIMIT}", "req/s", results, checks,
                          flags + error_flags(results))  # fmt: skip


async def items_paging(ctx: Context) -> ScenarioResult:
    """``items?limit=100&offset=N`` for 50 offsets 0-49,000 in turn."""
    paths = {name: [f"{prefix}/items?limit={PAGE_LIMIT}&offset={o}" for o in PAGE_OFFSETS]
             for name, prefix in COLLECTION_PATHS.items()}  # fmt: skip
    answers = await check_servers(ctx, COLLECTION_PATHS, paths)
    checks, flags = [], status_flags(answers)
    for name, a in answers.items():
        sizes = {len(body.get("features", [])) for body in a.bodies}
        matched = {body.get("numberMatched") for body in a.bodies}
        matched_text = ", ".join(map(str, sorted(matched, key=str)))
        checks.append(f"{name}: {len(a.bodies)} pages of {sorted(sizes)} features, numberMatched {matched_text}")
        if sizes != {PAGE_LIMIT}:
            flags.append(f"{name}: pages of {sorted(sizes)} features, not {PAGE_LIMIT}")
    results = await measure_servers(ctx, list(COLLECTION_PATHS), paths)
    if ctx.raw:
        query = feature_sql("feature_collection_page")
        params = [{"limit": PAGE_LIMIT, "offset": o} for o in PAGE_OFFSETS]
        results.append(await raw_load(ctx, params, lambda conn, p: fetch_text(conn, query, p)))
    title = f"items?limit={PAGE_LIMIT}&offset=0…{PAGE_OFFSETS[-1]:,} ({len(PAGE_OFFSETS)} pages)"
    return ScenarioResult("items-paging", title, "req/s", results, checks, flags + error_flags(results))


async def sample_codes(settings: Settings, count: int = FEATURE_IDS) -> list[str]:
    """``count`` report codes spread over the whole history (the same for every server)."""
    async with await AsyncConnection.connect(settings.conninfo()) as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT code FROM citizen_reports WHERE synthetic ORDER BY id "
            "OFFSET (SELECT count(*) FROM citizen_reports WHERE synthetic) / (2 * %(n)s::int) LIMIT %(n)s::int * 2",
            {"n": count},
        )
        codes = [row[0] for row in await cur.fetchall()]
    return codes[::2][:count]


async def feature_by_id(ctx: Context) -> ScenarioResult:
    """``items/{id}``: 50 reports by their tracking code (every server uses the code as the feature id)."""
    codes = await sample_codes(ctx.settings)
    by_id = {name: prefix for name, prefix in COLLECTION_PATHS.items() if name != "ours-count"}  # no count here
    paths = {name: [f"{prefix}/items/{code}" for code in codes] for name, prefix in by_id.items()}
    answers = await check_servers(ctx, by_id, paths)
    checks, flags = [], status_flags(answers)
    for name, a in answers.items():
        ids = [body.get("id") for body in a.bodies]
        same = sum(i in codes for i in ids)
        checks.append(f"{name}: {same}/{len(codes)} features answered with the requested id")
        if same != len(codes):
            flags.append(f"{name}: only {same} of {len(codes)} ids answered as requested")
    results = await measure_servers(ctx, list(by_id), paths)
    if ctx.raw:
        query = feature_sql("feature")
        results.append(await raw_load(ctx, [{"id": c} for c in codes], lambda conn, p: fetch_text(conn, query, p)))
    return ScenarioResult("feature", f"items/{{code}} ({len(codes)} reports)", "req/s", results, checks,
                          flags + error_flags(results))  # fmt: skip


# --- 3. vector tiles -------------------------------------------------------------------------------


def tile_list() -> list[tuple[int, int, int]]:
    """The 3 x 3 tiles around the Imperial City at z12-z16 (45 tiles)."""
    tiles = []
    for z in TILE_ZOOMS:
        centre = TMS.tile(*CENTRE, z)
        tiles += [(z, centre.x + dx, centre.y + dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return tiles


def tile_paths() -> dict[str, list[str]]:
    fields = ",".join(LAYER.mvt_fields)
    return {
        "ours": [f"/tiles/{LAYER.id}/{z}/{x}/{y}.mvt" for z, x, y in tile_list()],
        # The same attributes as ours (tipg would send every column).
        "tipg": [
            f"/collections/{TIPG_COLLECTION}/tiles/WebMercatorQuad/{z}/{x}/{y}?properties={fields}"
            for z, x, y in tile_list()
        ],
    }


async def invalidate_tiles(settings: Settings) -> None:
    """Make our cached citizen_reports tiles unreachable (a layer version bump), then outlive the memo."""
    async with await AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        await conn.execute(bench_sql("bump_version", table=sql.Identifier(LAYER.table_name)))
    await asyncio.sleep(DEFAULT_VERSION_TTL_S + 0.25)


async def cold_tiles(ctx: Context, name: str, paths: list[str]) -> Measurement:
    """Passes over the tile list, each one after our tile cache was invalidated, for the duration."""
    latencies: list[float] = []
    requests = errors = 0
    seconds = 0.0
    passes = 0
    while seconds < ctx.duration or passes < 2:
        await invalidate_tiles(ctx.settings)
        m = await httpx_load(name, ctx.servers[name].base, paths, concurrency=ctx.concurrency, duration=None,
                             once=True, latencies=latencies)  # fmt: skip
        requests, errors, seconds, passes = requests + m.requests, errors + m.errors, seconds + m.seconds, passes + 1
    return Measurement(name, requests, seconds, errors, percentile(latencies, 0.5) * 1000,
                       percentile(latencies, 0.99) * 1000, "httpx", detail={"passes": passes})  # fmt: skip


async def tiles(ctx: Context) -> list[ScenarioResult]:
    """45 citizen_reports tiles z12-z16 over the centre: cold (our cache invalidated before each pass), then warm."""
    paths = tile_paths()
    answers = await check_servers(ctx, TILE_SERVERS, paths)
    checks = [f"{name}: {a.statuses.get(200, 0)} tiles with data, {a.statuses.get(204, 0)} empty, "
              f"{a.bytes / 1024:.0f} KiB in all" for name, a in answers.items()]  # fmt: skip
    flags = status_flags(answers)
    cold: list[Measurement] = []
    for name in TILE_SERVERS:
        if name in ctx.servers:
            ctx.log(f"  {name}: cold passes for {ctx.duration:g} s at concurrency {ctx.concurrency}")
            m = await cold_tiles(ctx, name, paths[name])
            ctx.log(f"  {name}: {m.rate:.1f} tiles/s cold over {m.detail['passes']} passes, p50 {m.p50_ms:.1f} ms")
            cold.append(m)
    if ctx.raw:
        tileset = TILESETS[LAYER.id]
        cold.append(await raw_load(ctx, tile_list(), lambda conn, t: _render(conn, tileset, t)))
    await check_servers(ctx, ["ours"], paths)  # one pass fills our cache: warm means every tile cached
    hits = (await check_servers(ctx, ["ours"], paths))["ours"].tile_cache
    hit_rate = hits.get("hit", 0) / max(1, sum(hits.values()))
    warm_checks = [f"ours: cache hit rate {hit_rate:.0%} over one pass after filling ({hits}); tipg has no tile "
                   "cache and renders every tile: its row is the cold figure again, no ratio"]  # fmt: skip
    warm = await measure_servers(ctx, TILE_SERVERS, paths)
    title = f"citizen_reports MVT, {len(tile_list())} tiles z12-z16 around the Imperial City"
    return [
        ScenarioResult(
            "tiles-cold",
            title + ", cold: ours with its cache invalidated before each pass",
            "tiles/s",
            cold,
            checks,
            flags + error_flags(cold),
        ),
        ScenarioResult(
            "tiles-warm",
            title + f", warm: ours at a {hit_rate:.0%} cache hit rate",
            "tiles/s",
            warm,
            checks + warm_checks,
            flags + error_flags(warm),
            no_ratio="a cache against none",
        ),
    ]


async def _render(conn: AsyncConnection, tileset: Any, tile: tuple[int, int, int]) -> bool:
    await render_tile(conn, tileset, *tile)
    return True


# --- 4. intake ---------------------------------------------------------------------------------------


async def intake_categories(settings: Settings) -> list[str]:
    """The category codes to file under, after removing an interrupted run's bench reports."""
    async with await AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        await conn.execute(bench_sql("intake_cleanup"), {"prefix": INTAKE_PREFIX})
        return [row[0] for row in await (await conn.execute("SELECT code FROM report_categories")).fetchall()]


async def httpx_intake(
    ctx: Context, base: str, run_prefix: str, categories: list[str]
) -> tuple[Measurement, list[str]]:
    """POST reports with an httpx client (no wrk): the measurement and every acknowledged code."""
    rng = random.Random(20251)
    acknowledged: list[str] = []
    minx, miny, maxx, maxy = BBOX
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=ctx.concurrency)) as client:  # fmt: skip

        def step_for(phase: str) -> Callable[[int, int], Awaitable[bool]]:
            async def step(worker: int, n: int) -> bool:
                body = {"category": rng.choice(categories), "lon": rng.uniform(minx, maxx),
                        "description": f"Benchmark report {n}: a broken street light by the river",
                        "lat": rng.uniform(miny, maxy), "channel": "web"}  # fmt: skip
                try:
                    response = await client.post("/api/reports", json=body,
                                                 headers={"Idempotency-Key": f"{run_prefix}{phase}{n}"})  # fmt: skip
                except httpx.HTTPError:
                    return False
                if response.status_code == 201:
                    acknowledged.append(response.json()["code"])
                return response.status_code == 201

            return step

        if ctx.warmup > 0:
            await drive(step_for("w"), workers=ctx.concurrency, duration=ctx.warmup)
        m = await drive(step_for("m"), workers=ctx.concurrency, duration=ctx.duration)
    m.server, m.loader = "ours", "httpx"
    return m, acknowledged


async def tally_intake(settings: Settings, run_prefix: str, acknowledged: list[str],
                       m: Measurement) -> tuple[list[str], list[str]]:  # fmt: skip
    """Look up every acknowledged report by code; count lost, duplicated and unacknowledged; delete them all."""
    async with await AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        rows = await (await conn.execute(bench_sql("intake_rows"), {"prefix": run_prefix})).fetchall()
        cleaned = (await conn.execute(bench_sql("intake_cleanup"), {"prefix": INTAKE_PREFIX})).rowcount
    keys_of: dict[str, int] = {}
    for _key, code in rows:
        keys_of[code] = keys_of.get(code, 0) + 1
    acked = set(acknowledged)
    lost = [code for code in acked if code not in keys_of]
    duplicated = len(acknowledged) - len(acked) + sum(n - 1 for n in keys_of.values())
    # Requests in flight when the load generator stopped are stored but never acknowledged: not a loss.
    unacknowledged = [code for code in keys_of if code not in acked]
    checks = [
        f"{len(acknowledged)} reports acknowledged (201), {m.errors} failed {m.detail.get('refused') or ''}".rstrip(),
        f"{len(rows)} rows found: {len(lost)} lost, {duplicated} duplicated, {len(unacknowledged)} stored "
        "without a 201 (in flight when the load stopped)",
        f"{cleaned} bench reports deleted afterwards",
    ]
    flags = error_flags([m])
    if lost or duplicated:
        flags.append(f"{len(lost)} acknowledged reports lost, {duplicated} duplicated")
    m.detail |= {"acknowledged": len(acknowledged), "rows": len(rows), "lost": len(lost), "duplicated": duplicated,
                 "stored_without_201": len(unacknowledged)}  # fmt: skip
    return checks, flags


async def intake(ctx: Context) -> ScenarioResult:
    """``POST /api/reports`` with unique Idempotency-Keys; then every acknowledged report is looked up."""
    base = ctx.servers["ours"].base
    run_prefix = f"{INTAKE_PREFIX}{uuid.uuid4().hex[:12]}-"
    categories = await intake_categories(ctx.settings)
    ctx.log(f"  ours: POST /api/reports, warm-up {ctx.warmup:g} s, then {ctx.duration:g} s "
            f"at concurrency {ctx.concurrency} ({ctx.loader})")  # fmt: skip
    if ctx.loader == "wrk":
        if ctx.warmup >= 1:
            await asyncio.to_thread(wrk_intake, base, key_prefix=run_prefix + "w", categories=categories,
                                    concurrency=ctx.concurrency, duration=ctx.warmup)  # fmt: skip
        m, acknowledged = await asyncio.to_thread(wrk_intake, base, key_prefix=run_prefix + "m",
                                                  categories=categories, concurrency=ctx.concurrency,
                                                  duration=ctx.duration)  # fmt: skip
        acknowledged = [c for c in acknowledged if c != "?"]
    else:
        m, acknowledged = await httpx_intake(ctx, base, run_prefix, categories)
    checks, flags = await tally_intake(ctx.settings, run_prefix + "m", acknowledged, m)  # the warm-up aside
    return ScenarioResult("intake", "POST /api/reports (JSON, unique Idempotency-Key)", "reports/s", [m], checks, flags)


# --- 5. analytics -------------------------------------------------------------------------------------


async def kpi_by_ward(ctx: Context) -> ScenarioResult:
    """KPIs by ward/commune for 2025: ``GET /api/kpis`` against the same SQL run directly."""
    start, end = KPI_YEAR
    paths = {"ours": [f"/api/kpis?start={start.date()}&end={end.date()}&group_by=unit&compare=false"]}
    answers = await check_servers(ctx, ["ours"], paths)
    query = sql.SQL(load_sql("analytics/kpis")).format(group_key=sql.SQL(GROUP_KEYS["unit"]))
    params = {"start": start, "end": end, "unit": None, "level": None, "category": None, "channel": None,
              "now": datetime.now(TZ), "as_of": None}  # fmt: skip
    async with await AsyncConnection.connect(ctx.settings.conninfo()) as conn, conn.cursor() as cur:
        await cur.execute(query, params)
        raw_groups = len(await cur.fetchall())
    api_groups = len(answers["ours"].bodies[0]["groups"]) if answers["ours"].bodies else None
    checks = [f"ours: {api_groups} wards/communes; raw SQL: {raw_groups}"]
    flags = status_flags(answers) + ([] if api_groups == raw_groups else ["group counts differ"])
    results = await measure_servers(ctx, ["ours"], paths)

    async def run_raw(conn: AsyncConnection, p: dict[str, Any]) -> bool:
        async with conn.cursor() as cur:
            await cur.execute(query, p)
            return len(await cur.fetchall()) == raw_groups

    if ctx.raw:
        results.append(await raw_load(ctx, [params], run_raw))
    return ScenarioResult("kpi", f"KPIs by ward/commune, {start.year}", "req/s", results, checks,
                          flags + error_flags(results))  # fmt: skip


async def month_counts(settings: Settings) -> tuple[np.ndarray, Any]:
    """Reports per 250 m hexagon of Huế's land in one month, and the grid's weights (one ring)."""
    from geo.analytics.grid import build_grid
    from geo.analytics.hotspot_run import hue_events

    async with await AsyncConnection.connect(settings.conninfo()) as conn:
        events, _ = await hue_events(conn)
    grid = build_grid(events.area, GI_CELL_M, events.epsg)
    start, end = (pd.Timestamp(d, tz=TZ.key) for d in GI_MONTH)
    keep = np.asarray((events.times >= start) & (events.times < end))
    cells = grid.cell_of(events.x[keep], events.y[keep])
    counts = np.bincount(cells[cells >= 0], minlength=grid.n).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not fully connected": islands in the lagoon, expected
        weights = grid.weights(1)
    return counts, weights


def repeat(label: str, fn: Callable[[], Any], duration: float, minimum: int = 2) -> tuple[Measurement, Any]:
    """Call ``fn`` until ``duration`` s and ``minimum`` calls have passed, after one warm-up call.

    Returns the measurement and the warm-up call's result (to compare the two implementations).
    """
    first = fn()  # numba compiles esda's kernels on the first call
    latencies: list[float] = []
    started = time.perf_counter()
    while time.perf_counter() - started < duration or len(latencies) < minimum:
        t0 = time.perf_counter()
        fn()
        latencies.append(time.perf_counter() - t0)
    measurement = Measurement(label, len(latencies), sum(latencies), 0, percentile(latencies, 0.5) * 1000,
                              percentile(latencies, 0.99) * 1000, "in process")  # fmt: skip
    return measurement, first


async def gi_star_month(ctx: Context) -> ScenarioResult:
    """Gi* on the 250 m grid for one month: ``geo.analytics.hotspots.gi_star`` against esda.G_Local alone."""
    import esda

    from geo.analytics.hotspots import gi_star

    counts, weights = await month_counts(ctx.settings)
    perms = ctx.gi_permutations

    def ours() -> Any:
        return gi_star(counts, weights, permutations=perms, seed=0)

    def plain() -> Any:
        return esda.G_Local(counts, weights, transform="B", star=True, permutations=perms, seed=0, n_jobs=1,
                            keep_simulations=False)  # fmt: skip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx.log(f"  ours (gi_star): {perms} permutations on {len(counts):,} cells")
        mine, our_result = await asyncio.to_thread(repeat, "ours", ours, ctx.duration / 2)
        ctx.log(f"  esda.G_Local: {perms} permutations on {len(counts):,} cells")
        theirs, esda_result = await asyncio.to_thread(repeat, "esda", plain, ctx.duration / 2)
    same_z = bool(np.allclose(our_result.z, esda_result.Zs))
    checks = [f"{len(counts):,} cells, {int(counts.sum()):,} reports in {GI_MONTH[0][:7]}; z-scores equal: {same_z}",
              "ours = gi_star (Gi* + tie-broken permutation test + FDR classes); esda = one G_Local call"]  # fmt: skip
    return ScenarioResult("gistar", f"Gi* on the {GI_CELL_M:g} m grid, {GI_MONTH[0][:7]}, {perms} permutations",
                          "runs/s", [mine, theirs], checks, [] if same_z else ["z-scores differ"])  # fmt: skip


SCENARIOS: dict[str, Callable[[Context], Awaitable[ScenarioResult | list[ScenarioResult]]]] = {
    "items": items_bbox,
    "paging": items_paging,
    "feature": feature_by_id,
    "tiles": tiles,
    "kpi": kpi_by_ward,
    "gistar": gi_star_month,
    "intake": intake,
}
GROUPS = {"features": ("items", "paging", "feature"), "analytics": ("kpi", "gistar")}
