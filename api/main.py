"""The ASGI application: ``uvicorn --factory api.main:create_app``."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from cachetools import LRUCache
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from psycopg_pool import AsyncConnectionPool

from api.compression import CompressedStaticFiles, install_compression
from api.consistency import WritePositions
from api.errors import install_error_handlers
from api.limits import AuthFirst, BodyLimit, BodyRule, RateLimits, refuse_bad_text
from api.publication import listen_for_layers
from api.routers import (
    auth,
    data,
    disasters,
    editing,
    emergency,
    feeds,
    health,
    hotline,
    hotspots,
    layers,
    maps,
    ogc,
    open311,
    operations,
    pages,
    planning,
    portal,
    processes,
    reports,
    spatial,
)
from api.routers.raster_tiles import router as raster_tiles_router
from api.routers.tiles import router as tiles_router
from api.security import SecurityHeaders, install_access_log_redaction
from geo.analytics.bottleneck_table import refresh_bottlenecks
from geo.analytics.hotspot_run import refresh_hotspots
from geo.analytics.kpis import refresh_touched_job
from geo.audit import Actor
from geo.db import KEEPALIVES, Pools
from geo.disasters.signing import load_signer
from geo.errors import InvalidInput
from geo.jobs import JobGroup
from geo.ogc.features import count_cache
from geo.reports.cells import refresh_report_cells
from geo.reports.workflow import escalate_overdue
from geo.settings import Settings, get_settings
from layers.simulator import CityRounds
from tiles.cache import TileStore

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"
ROUTERS = (
    ogc.router,
    editing.router,  # Part 4 writes on the fast path's URLs, before the pygeoapi mount
    processes.router,  # executing and jobs: staff only, before the pygeoapi mount
    health.router,
    auth.router,
    layers.router,
    editing.history,
    planning.router,
    pages.router,
    tiles_router,
    maps.router,
    portal.router,
    reports.router,
    reports.staff,
    open311.router,
    hotline.router,
    operations.router,
    hotspots.router,
    spatial.router,
    disasters.router,
    feeds.router,
    emergency.router,
    raster_tiles_router,
    data.router,
)
log = logging.getLogger("huegis")


async def escalate(pool: AsyncConnectionPool) -> None:
    """The scheduled SLA job: escalate overdue reports (run by one process: geo/jobs.py)."""
    async with pool.connection() as conn:
        escalated = await escalate_overdue(conn)
    if escalated:
        log.info("escalated %d overdue reports", escalated)


async def recount_report_cells(pool: AsyncConnectionPool) -> None:
    """The report-cells job: recount the cells whose reports changed (low-zoom report tiles, geo/reports/cells.py)."""
    async with pool.connection() as conn:
        cells = await refresh_report_cells(conn)
    if cells:
        log.debug("recounted %d report cells", cells)


async def first_hotspot_run(settings: Settings) -> None:
    """The one-shot job: the city's first hot-spot run when none exists and no one is computing one."""
    try:
        result = await refresh_hotspots(settings.conninfo(**KEEPALIVES), actor=Actor("system:hotspots", "system"))
    except InvalidInput as exc:  # a city with too few reports yet: nothing to compute, not a failure
        log.info("no first hot-spot run: %s", exc)
        return
    if result:
        log.info("first hot-spot run %s published: %s", result["run_id"], result["rows"])


MiB = 1024 * 1024
# Disaster zones are the one JSON body that may be large: a detailed flood polygon.
ZONE_BODY_BYTES = 4 * MiB


def install_abuse_limits(app: FastAPI, settings: Settings) -> None:
    """Authentication before the body on staff routes, body caps per route, and CORS for the configured
    browser origins only (none: no CORS headers)."""
    rules = (
        BodyRule("/api/reports", settings.body_limit_bytes, multipart=True),  # photos
        BodyRule("/api/hotspots/backtest", hotspots.MAX_UPLOAD_BYTES + MiB, multipart=True),  # a city's events
        BodyRule(r"/api/disasters(/\d+)?", ZONE_BODY_BYTES),
        BodyRule(data.IMPORT_PATH, settings.import_max_bytes, multipart=True),  # a city's GIS file
    )
    app.add_middleware(AuthFirst, routers=ROUTERS)  # inside the body cap: an anonymous upload is refused unread
    app.add_middleware(BodyLimit, max_bytes=settings.max_json_bytes, rules=rules)
    # Outside the limits: their 401/413 answers carry the headers too.
    app.add_middleware(
        SecurityHeaders,
        basemap_url=settings.basemap_pmtiles_url,
        public_url=settings.public_url,
        allowed_hosts=settings.allowed_hosts,
    )
    if settings.cors_origins:  # added last: outermost, so 413/429 answers carry CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                *("Authorization", "Content-Type", "Idempotency-Key", "X-Device-Id", "X-API-Key"),
                *("If-Match", "Content-Crs"),  # feature edits (api/routers/editing.py)
            ],
            expose_headers=["Location", "Retry-After", "Idempotent-Replayed", "ETag", "Allow"],
            max_age=600,
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app: our routers, pygeoapi under ``/ogc``, one database pool in the lifespan."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pools = Pools(settings)
        # Do not wait for the database: the app starts (and /healthz says 503) while it is down.
        await pools.open()
        pool = pools.primary
        app.state.pools, app.state.pool = pools, pool
        # The in-process caches, each keyed by the layer versions it depends on: every worker
        # process holds its own, and each stays correct because a write changes the key.
        app.state.tile_store = TileStore(pools)
        app.state.feature_counts = count_cache(settings.feature_counts)
        app.state.map_pages = LRUCache(maxsize=maps.MAX_PAGES)
        # Background jobs run in one process of all those on this database (workers, hosts).
        jobs = JobGroup(settings.conninfo(**KEEPALIVES))
        jobs.add("sla-escalation", settings.escalation_interval_s, lambda: escalate(pool))
        # The low-zoom report tiles' counts, folded in from the cells changed since the last run.
        jobs.add("report-cells", settings.report_cells_interval_s, lambda: recount_report_cells(pool))
        # The dashboard's bottleneck periods, computed ahead (a detection takes a minute at national scale).
        jobs.add("bottlenecks", settings.bottleneck_interval_s, lambda: refresh_bottlenecks(
            pool, months=settings.bottleneck_months, max_age_s=settings.bottleneck_max_age_s,
            statement_timeout_ms=settings.bottleneck_statement_timeout_ms))  # fmt: skip
        # The unit-months of kpi_unit_month that writes touched, recomputed (whole-month KPIs read them).
        jobs.add("kpi-months", settings.kpi_months_interval_s, lambda: refresh_touched_job(pool))
        if settings.hotspots_on_start:  # the first hot-spot run, minutes long: the app answers meanwhile
            jobs.add_once("hotspots-first-run", lambda: first_hotspot_run(settings))
        if settings.simulating:  # development: the city lives on (synthetic; off in production and tests)
            jobs.add("city-simulator", settings.simulate_interval_s, CityRounds(pool, settings))
        app.state.jobs = jobs
        tasks = [asyncio.create_task(jobs.run(), name="jobs")]
        # Layers imported from the city's files: published now and whenever an import commits.
        tasks.append(asyncio.create_task(listen_for_layers(app, settings), name="layer-publication"))
        if pools.replicas:
            await pools.check()  # know the replicas before the first request
            tasks.append(asyncio.create_task(pools.watch(), name="replica-watch"))
        # Everything loaded so far (pygeoapi, pandas, shapely, the registry...) lives as long as
        # the app: keep it out of the collector, whose full passes over it stalled every request
        # for ~0.5 s (measured: item-by-id p99 0.73 s -> see docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await pools.close()

    app = FastAPI(
        title="HueGIS API",
        summary="Huế smart-city GIS platform: layers, citizen reports, analytics, disaster feeds.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below from the vendored Swagger UI: no CDN
        redoc_url=None,  # ReDoc is not vendored (its page loads a CDN and Google Fonts): /docs has it all
        dependencies=[Depends(refuse_bad_text)],
    )

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="HueGIS API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/leaflet/images/marker-icon.png",
        )
        # FastAPI's page starts Swagger UI from an inline script (its own text, no data): let it run.
        nonce = request.state.csp_nonce
        return HTMLResponse(bytes(page.body).replace(b"<script>", f'<script nonce="{nonce}">'.encode()))

    app.state.settings = settings
    app.state.rate_limits = RateLimits(settings)
    app.state.cap_signer = load_signer(settings)  # generates the development pair on first start
    install_access_log_redaction()
    install_error_handlers(app)
    app.add_middleware(WritePositions)  # read-your-writes with replicas (a no-op without)
    install_abuse_limits(app, settings)
    # The OGC fast path first (the hottest routes match first) and before the /ogc mount: JSON items
    # come from PostgreSQL bytes, everything else falls through to pygeoapi.
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", CompressedStaticFiles(directory=STATIC_DIR), name="static")
    app.mount(ogc.PREFIX, ogc.create_ogc_app(settings), name="ogc")
    editing.advertise_part4()
    install_compression(app)
    return app
