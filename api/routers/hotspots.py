"""Hot spots: counts per hexagon, Gi* hot spots now, emerging hot spots, forecasts and their backtest."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field

from api.deps import ConnDep, ReadConnDep, SettingsDep, requires
from api.limits import limit_expensive
from api.routers.operations import period as parse_period
from geo.analytics import hotspot_run
from geo.analytics.backtest import run_backtest
from geo.analytics.emerging import CATEGORIES as PATTERNS
from geo.analytics.events import place_events, read_events_csv
from geo.auth import Principal
from geo.auth.roles import HOTSPOTS
from geo.db import KEEPALIVES
from geo.errors import InvalidInput, NotFound, NotReady, PayloadTooLarge

router = APIRouter(prefix="/api/hotspots", tags=["hotspots"])

T = TypeVar("T")
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
PeriodName = Literal["day", "week", "month"]
# Runs publish layers and backtests are heavy: GIS administrators only.
GisAdmin = Annotated[Principal, Depends(requires(HOTSPOTS))]


class RunBody(BaseModel):
    """Parameters of a run (all optional)."""

    period: PeriodName = Field(default="week", description="Forecast period; weeks start on Monday (Huế time)")
    cell_m: float = Field(default=250.0, description="Hexagon edge in metres (a cell is 2.6·cell_m² m²)")
    category: str | None = Field(default=None, description="Only this report category (default: all)")
    window: int | None = Field(default=None, description="Periods summed for the Gi* hot spots now")
    ehsa_period: PeriodName = Field(default="month", description="Length of an emerging-hot-spot time slice")
    ehsa_slices: int = Field(default=12, description="Number of time slices (≥ 3)")
    origins: int | None = Field(
        default=None,
        description="Scored origins of the backtest (≥ 4; default 52 weeks, 56 days, 12 months); the published model "
        "is chosen on that many most recent periods",
    )
    validation: int | None = Field(default=None, description="Validation origins before the scored ones (≥ 4)")
    seed: int = 0


@router.post("/run", status_code=201, summary="Staff: run every hot-spot analysis and publish the layers")
async def run(settings: SettingsDep, admin: GisAdmin, body: RunBody | None = None) -> dict[str, Any]:
    """Gi* now, emerging hot spots, a backtest choosing the model, the next period's forecast.

    Replaces the rows of ``hotspot_cells``, ``emerging_hotspots`` and ``forecast_cells`` (OGC API and tiles
    serve them at once) and records the run with its backtest report. One run at a time on the database
    (409 while another is computed, the app's first run included).
    """
    body = body or RunBody()
    params = hotspot_run.RunParams(
        period=body.period,
        cell_m=body.cell_m,
        category=body.category,
        window=body.window,
        ehsa_period=body.ehsa_period,
        ehsa_slices=body.ehsa_slices,
        origins=body.origins,
        validation=body.validation,
        seed=body.seed,
    )
    return await hotspot_run.run_exclusively(settings.conninfo(**KEEPALIVES), params, actor=admin.actor)


@router.post("/backtest", summary="Staff: backtest the forecasts on any city's events (CSV upload)")
async def backtest(
    _admin: GisAdmin,
    events: Annotated[UploadFile, File(description="CSV with id, created_at, category, lat, lon")],
    period: Annotated[PeriodName, Form()] = "week",
    cell_m: Annotated[float, Form(description="Hexagon edge in metres")] = 250.0,
    tz: Annotated[str, Form(description="IANA zone of times without an offset")] = "UTC",
    origins: Annotated[int | None, Form(description="Scored origins (default: 52 weeks, 56 days, 12 months)")] = None,
    validation: Annotated[int | None, Form(description="Validation origins before them (default: as many)")] = None,
) -> dict[str, Any]:
    """The same backtest as ``huegis hotspots backtest``: the study area is the events' convex hull."""
    data = await events.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the CSV is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    if not math.isfinite(cell_m) or cell_m <= 0:
        raise InvalidInput(f"cell size must be a positive number of metres, got {cell_m}")

    def compute() -> dict[str, Any]:
        placed = place_events(read_events_csv(data, tz=tz))
        return run_backtest(placed, period=period, cell_m=cell_m, origins=origins, validation=validation).to_dict()

    return await asyncio.to_thread(compute)


@router.get("/grid", summary="Reports per hexagon (ST_HexagonGrid) and period, as GeoJSON",
            dependencies=[Depends(limit_expensive)])  # fmt: skip
async def grid(
    conn: ReadConnDep,
    start: Annotated[str | None, Query(description="YYYY-MM-DD or ISO 8601 (default: end - 30 days)")] = None,
    end: Annotated[str | None, Query(description="Exclusive end (default: now)")] = None,
    period: PeriodName = "week",
    cell_m: Annotated[float, Query(description="Hexagon edge in metres (UTM 48N)")] = 250.0,
    category: str | None = None,
) -> dict[str, Any]:
    begin, finish = parse_period(start, end, None)
    return await hotspot_run.grid_counts(conn, start=begin, end=finish, period=period, cell_m=cell_m, category=category)


class RunState(BaseModel):
    """Whether hot spots can be read yet."""

    state: Literal["ready", "computing", "none"] = Field(
        description="ready: a run is published; computing: none yet, the first is being computed (the hot-spot "
        "endpoints answer 503 with Retry-After meanwhile); none: no run and none being computed (404)"
    )
    computing: bool = Field(description="A run is being computed now (a new one, when a run is published)")
    latest_run: int | None = None
    created_at: str | None = None
    retry_after_s: int | None = Field(default=None, description="When computing the first run: ask again after this")


@router.get("/status", summary="Hot spots ready, being computed (the first run after setup), or none yet")
async def status(conn: ConnDep) -> RunState:
    return describe(await hotspot_run.run_state(conn))


def describe(row: dict[str, Any]) -> RunState:
    """The run state as the API and the pages tell it."""
    state = hotspot_run.state_of(row)
    return RunState(
        state=state,
        computing=bool(row["computing"]),
        latest_run=row["latest_run"],
        created_at=row["created_at"].isoformat() if row["created_at"] else None,
        retry_after_s=hotspot_run.COMPUTING_RETRY_S if state == "computing" else None,
    )


async def latest_or_computing(request: Request, read: Awaitable[T]) -> T:
    """``read`` of the latest run; while there is none but the first is being computed, a 503 with Retry-After."""
    try:
        return await read
    except NotFound:
        async with request.app.state.pool.connection() as conn:  # the primary: a replica does not see the lock
            state = describe(await hotspot_run.run_state(conn))
        if state.state == "computing":
            raise NotReady(
                "the first hot-spot run is being computed (a few minutes after the platform starts); "
                f"try again in {hotspot_run.COMPUTING_RETRY_S} s",
                hotspot_run.COMPUTING_RETRY_S,
                code="hotspots_computing",
            ) from None
        raise


@router.get("/runs/latest", summary="The latest run: parameters, study area, backtest report, rows published")
async def latest_run(request: Request, conn: ReadConnDep) -> dict[str, Any]:
    return await latest_or_computing(request, hotspot_run.get_run(conn))


@router.get("/runs/{run_id}", summary="One run")
async def one_run(conn: ReadConnDep, run_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> dict[str, Any]:
    return await hotspot_run.get_run(conn, run_id)


@router.get("/backtest/latest", summary="The latest run's backtest: hit rate, PAI, PEI per model and area")
async def latest_backtest(request: Request, conn: ReadConnDep) -> dict[str, Any]:
    run_row = await latest_or_computing(request, hotspot_run.get_run(conn))
    return {"run_id": run_row["id"], **(run_row["backtest"] or {})}


Limit = Annotated[int, Query(ge=1, le=50_000)]


@router.get("/now", summary="Gi* hot and cold spots of the latest run (GeoJSON)")
async def hotspots_now(
    request: Request,
    conn: ReadConnDep,
    kind: Annotated[Literal["hot", "cold"] | None, Query(description="Only hot or only cold spots")] = None,
    min_class: Annotated[int, Query(ge=0, le=3, description="1: 90 %, 2: 95 %, 3: 99 % confidence")] = 1,
    limit: Limit = 5000,
) -> dict[str, Any]:
    params = {"kind": kind, "min_class": min_class, "limit": limit}
    return await latest_or_computing(request, hotspot_run.features(conn, "hotspot_cells", params))


@router.get("/emerging", summary="Emerging hot spots of the latest run (GeoJSON)")
async def emerging(
    request: Request,
    conn: ReadConnDep,
    pattern: Annotated[str | None, Query(description="e.g. new_hot, intensifying_hot, persistent_cold")] = None,
    limit: Limit = 5000,
) -> dict[str, Any]:
    if pattern is not None and pattern not in PATTERNS:
        raise InvalidInput(f"pattern must be one of {', '.join(PATTERNS)}, got {pattern!r}")
    return await latest_or_computing(
        request, hotspot_run.features(conn, "emerging", {"pattern": pattern, "limit": limit})
    )


@router.get("/forecast", summary="Forecast cells of the latest run within the top share of the area (GeoJSON)")
async def forecast(
    request: Request,
    conn: ReadConnDep,
    top_share: Annotated[float, Query(gt=0, le=0.2, description="Flagged area fraction, e.g. 0.05")] = 0.05,
    limit: Limit = 5000,
) -> dict[str, Any]:
    params = {"top_share": top_share, "limit": limit}
    return await latest_or_computing(request, hotspot_run.features(conn, "forecast", params))
