"""The ASGI application: ``uvicorn --factory api.main:create_app``."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from cachetools import LRUCache
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import AsyncConnectionPool

from api.errors import install_error_handlers
from api.limits import BodyLimit, RateLimits, refuse_nul
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
    reports,
    spatial,
)
from api.routers.raster_tiles import router as raster_tiles_router
from api.routers.tiles import router as tiles_router
from geo.db import create_pool
from geo.ogc.features import count_cache
from geo.reports.workflow import escalate_overdue
from geo.settings import Settings, get_settings
from tiles.cache import TileStore

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"
ROUTERS = (
    ogc.router,
    editing.router,  # Part 4 writes on the fast path's URLs, before the pygeoapi mount
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


async def escalate_periodically(pool: AsyncConnectionPool, interval_s: int) -> None:
    """The scheduled SLA job: escalate overdue reports every ``interval_s`` seconds (0: never)."""
    while interval_s > 0:
        await asyncio.sleep(interval_s)
        try:
            async with pool.connection() as conn:
                escalated = await escalate_overdue(conn)
            if escalated:
                log.info("escalated %d overdue reports", escalated)
        except Exception:  # an outage must not kill the job; the next run retries
            log.exception("SLA escalation run failed")


def install_abuse_limits(app: FastAPI, settings: Settings) -> None:
    """The request body cap, and CORS for the configured browser origins only (none: no CORS headers)."""
    # The staff hot-spot backtest takes a CSV larger than any report with photos.
    larger = {"/api/hotspots/backtest": hotspots.MAX_UPLOAD_BYTES + 1024 * 1024}
    # A city's GIS file (zipped shapefile, GeoPackage...) is streamed up to its own cap.
    patterns = {data.IMPORT_PATH: settings.import_max_bytes}
    app.add_middleware(BodyLimit, max_bytes=settings.body_limit_bytes, larger=larger, patterns=patterns)
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
        pool = create_pool(settings)
        # Do not wait for the database: the app starts (and /healthz says 503) while it is down.
        await pool.open(wait=False)
        app.state.pool = pool
        # The in-process caches, each keyed by the layer versions it depends on.
        app.state.tile_store = TileStore(pool)
        app.state.feature_counts = count_cache()
        app.state.map_pages = LRUCache(maxsize=maps.MAX_PAGES)
        escalation = asyncio.create_task(escalate_periodically(pool, settings.escalation_interval_s))
        # Layers imported from the city's files: published now and whenever an import commits.
        publication = asyncio.create_task(listen_for_layers(app, settings))
        # Everything loaded so far (pygeoapi, pandas, shapely, the registry...) lives as long as
        # the app: keep it out of the collector, whose full passes over it stalled every request
        # for ~0.5 s (measured: item-by-id p99 0.73 s -> see docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            escalation.cancel()
            publication.cancel()
            await pool.close()

    app = FastAPI(
        title="HueGIS API",
        summary="Huế smart-city GIS platform: layers, citizen reports, analytics, disaster feeds.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below from the vendored Swagger UI: no CDN
        dependencies=[Depends(refuse_nul)],
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="HueGIS API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/leaflet/images/marker-icon.png",
        )

    app.state.settings = settings
    app.state.rate_limits = RateLimits(settings)
    install_error_handlers(app)
    install_abuse_limits(app, settings)
    # The OGC fast path first (the hottest routes match first) and before the /ogc mount: JSON items
    # come from PostgreSQL bytes, everything else falls through to pygeoapi.
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(ogc.PREFIX, ogc.create_ogc_app(settings), name="ogc")
    editing.advertise_part4()
    return app
