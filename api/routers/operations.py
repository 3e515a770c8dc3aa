"""Operations centre API: KPIs by unit/category/channel/time and bottleneck detection."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from api.deps import ReadConnDep, SettingsDep
from api.limits import limit_expensive
from geo.admin import check_category, check_ward
from geo.analytics.bottleneck_table import stored_bottlenecks
from geo.analytics.bottlenecks import BottleneckSettings, detect_bottlenecks, flag_to_dict
from geo.analytics.kpis import GroupBy, KpiFilter, compute_kpis
from geo.errors import InvalidInput, NotFound
from geo.models.reports import CHANNELS
from geo.reports.sla import working_days
from geo.times import TZ, month_period, parse_instant

router = APIRouter(prefix="/api", tags=["operations"])
DEFAULTS = BottleneckSettings()  # the API detects with the benchmarked defaults


def period(start: str | None, end: str | None, month: str | None) -> tuple[datetime, datetime]:
    """The requested period: ``month``, or ``start``/``end`` (default: the last 30 days)."""
    if month:
        if start or end:
            raise InvalidInput("give either month or start/end, not both")
        return month_period(month)
    now = datetime.now(TZ)
    begin = parse_instant("start", start) if start else None
    finish = parse_instant("end", end) if end else None
    finish = finish or (begin + timedelta(days=30) if begin else now)
    begin = begin or finish - timedelta(days=30)
    if finish <= begin:
        raise InvalidInput(f"end ({finish.date()}) must be after start ({begin.date()})")
    return begin, finish


def compared(where: KpiFilter, month: str | None, now: datetime) -> tuple[KpiFilter, datetime]:
    """The period before ``where`` (the month before, for ``month``) and the instant to see it as of."""
    if month:
        begin, finish = month_period(f"{where.start - timedelta(days=1):%Y-%m}")
        previous = replace(where, start=begin, end=finish)
    else:
        previous = where.previous()
    # As long after its start as now is after this period's: both had the same time to process
    # their reports, so the shares compare like for like.
    return previous, now - (where.start - previous.start)


Start = Annotated[str | None, Query(description="Period start: YYYY-MM-DD or ISO 8601 (default: end - 30 days)")]
End = Annotated[str | None, Query(description="Period end, exclusive (default: now)")]
Month = Annotated[str | None, Query(description="A calendar month YYYY-MM instead of start/end")]


@router.get("/kpis", summary="Report KPIs for a period, grouped")
async def kpis(
    conn: ReadConnDep,
    settings: SettingsDep,
    start: Start = None,
    end: End = None,
    month: Month = None,
    unit: Annotated[str | None, Query(description="Ward/commune code")] = None,
    level: Annotated[Literal["ward", "commune"] | None, Query()] = None,
    category: Annotated[str | None, Query()] = None,
    channel: Annotated[str | None, Query(description="app, web, hotline or open311")] = None,
    group_by: Annotated[GroupBy, Query()] = "none",
    compare: Annotated[
        bool,
        Query(description="Add the previous period (the month before, for month=), seen as long after its start"),
    ] = True,
    as_of: Annotated[str | None, Query(description="Every figure as it stood at this past instant")] = None,
) -> dict:
    """Received, processed, on-time/extension/late, satisfaction, reopened, backlog and overdue."""
    begin, finish = period(start, end, month)
    if unit:
        await check_ward(conn, unit, error=NotFound)
    if category:
        await check_category(conn, category)
    if channel and channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}")
    where = KpiFilter(begin, finish, unit=unit, level=level, category=category, channel=channel)
    now = datetime.now(TZ)
    then = past_instant(as_of, now)
    body: dict = {
        "period": described(begin, finish, then or now),
        "as_of": (then or now).isoformat(),
        "group_by": group_by,
        "groups": await compute_kpis(
            conn, where=where, group_by=group_by, now=now, as_of=then, from_months=settings.kpi_from_months
        ),
    }
    if compare:
        previous, seen = compared(where, month, then or now)
        body["previous"] = {
            "period": described(previous.start, previous.end, seen),
            "as_of": seen.isoformat(),
            "groups": await compute_kpis(
                conn, where=previous, group_by=group_by, as_of=seen, from_months=settings.kpi_from_months
            ),
        }
    return body


def described(begin: datetime, finish: datetime, seen: datetime) -> dict:
    """A period's bounds and its working days up to the instant it is seen as of."""
    # Processed shares follow working days: 1-6 Dec (4) against 1-6 Nov (5) is not like for like.
    days = working_days(begin, min(finish, seen))
    return {"start": begin.isoformat(), "end": finish.isoformat(), "working_days": days}


def past_instant(as_of: str | None, now: datetime) -> datetime | None:
    """``as_of`` parsed (None: now); an instant to come has no figures yet."""
    then = parse_instant("as_of", as_of) if as_of else None
    if then and then > now:
        raise InvalidInput(f"as_of ({then.isoformat()}) is in the future: the figures as of now need no as_of")
    return then


@router.get("/kpis/units/{unit_code}", summary="One ward/commune: KPIs, monthly trend and categories")
async def unit_kpis(
    conn: ReadConnDep,
    # Official codes have 5 digits; a national scaling database's copies a letter and 4 (docs/scaling.md).
    unit_code: Annotated[str, Path(pattern=r"^[0-9A-Z]{5}$", description="Ward/commune code (official: 5 digits)")],
    start: Start = None,
    end: End = None,
    month: Month = None,
) -> dict:
    await check_ward(conn, unit_code, error=NotFound)
    begin, finish = period(start, end, month)
    where = KpiFilter(begin, finish, unit=unit_code)
    year = KpiFilter(finish - timedelta(days=365), finish, unit=unit_code)
    now = datetime.now(TZ)
    totals = await compute_kpis(conn, where=where, now=now)
    previous, seen = compared(where, month, now)
    return {
        "unit": unit_code,
        "period": {"start": begin.isoformat(), "end": finish.isoformat()},
        "kpis": totals[0] if totals else None,
        "previous": next(iter(await compute_kpis(conn, where=previous, as_of=seen)), None),
        "by_category": await compute_kpis(conn, where=where, group_by="category"),
        "by_month": await compute_kpis(conn, where=year, group_by="month"),
    }


NOW_TOLERANCE = timedelta(minutes=5)


@router.get("/bottlenecks", summary="Units and stages where work piles up")
async def bottlenecks(
    request: Request,
    conn: ReadConnDep,
    settings: SettingsDep,
    window_days: Annotated[int, Query(ge=7, le=730)] = DEFAULTS.window_days,
    min_volume: Annotated[int, Query(ge=1, le=10_000)] = DEFAULTS.min_volume,
    alpha: Annotated[float, Query(gt=0, lt=1, description="False-discovery rate")] = DEFAULTS.alpha,
    min_ratio: Annotated[
        float, Query(ge=1, le=100, description="Minimum effect: times its own past (or its peers)")
    ] = DEFAULTS.min_ratio,
    at: Annotated[str | None, Query(description="Evaluate as of this time (default: now)")] = None,
) -> dict:
    """Flags with a reason in Vietnamese and English, most significant first.

    The dashboard's periods with the default settings come from the bottleneck job's table
    (``source: "table"``, ``computed_at``: when the job ran); any other is computed on request.
    """
    cfg = BottleneckSettings(window_days=window_days, min_volume=min_volume, alpha=alpha, min_ratio=min_ratio)
    now = parse_instant("at", at) if at else None
    if now and now > datetime.now(TZ) + NOW_TOLERANCE:  # a client's clock may run a little ahead
        raise InvalidInput(f"at ({now.isoformat()}) is in the future: leave it out for now")
    body: dict = {"settings": cfg.__dict__}
    if cfg == replace(DEFAULTS, window_days=window_days):
        stored = await stored_bottlenecks(conn, at=now, window_days=window_days,
                                          max_age_s=settings.bottleneck_max_age_s)  # fmt: skip
        if stored:
            return {**body, "flags": stored["flags"], "as_of": stored["at"].isoformat(), "source": "table",
                    "computed_at": stored["computed_at"].isoformat(), "seconds": round(stored["seconds"], 1),
                    "reports_changed_since": not stored["current"]}  # fmt: skip
    await limit_expensive(request)  # seconds of work per request: rate-limited for the public
    as_of = now or datetime.now(TZ)
    flags = await detect_bottlenecks(conn, now=as_of, settings=cfg)
    return {**body, "flags": [flag_to_dict(f) for f in flags], "as_of": as_of.isoformat(), "source": "request",
            "computed_at": datetime.now(TZ).isoformat(), "reports_changed_since": False}  # fmt: skip
