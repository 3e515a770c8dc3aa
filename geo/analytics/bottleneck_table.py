"""Bottleneck detection as a job: the standard periods computed ahead into ``bottleneck_results``.

A detection reads every report of the last two and a half years and runs about a thousand tests:
14 s at 0.2 M reports, 71 s at 2 M (docs/scaling.md), too slow for a dashboard waiting on it. The
job (``refresh_bottlenecks``, run by one process of all: geo/jobs.py) keeps, with the API's default
settings, the periods the dashboard and the API's defaults ask for:

* running, as of the time the job ran: the current month so far (``now/<day of the month>``, at
  least 7 days, as dashboard.js asks) and the API's default window (``now/180``);
* the ``months`` calendar months before the current one (``YYYY-MM``: as of the month's end, over its days).

A period is recomputed when the reports changed since (the ``citizen_reports`` layer version, which
every write bumps); a running one also once it is ``max_age_s`` old, since time alone makes open
reports overdue. ``stored_bottlenecks`` finds the stored period a request asks for, if any.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from geo.analytics.bottlenecks import BottleneckSettings, detect_bottlenecks, flag_to_dict
from geo.db import fetch_all, fetch_one, load_sql
from geo.times import TZ

log = logging.getLogger("huegis.bottlenecks")
DEFAULTS = BottleneckSettings()  # the job stores detections with the API's defaults only
NOW_TOLERANCE = timedelta(minutes=5)  # an `at` this close to now asks for now (the dashboard sends its clock)


@dataclass(frozen=True)
class Period:
    """A standard period: its key in the table, the time it is seen as of, its days, running or fixed."""

    key: str
    at: datetime
    window_days: int
    running: bool


def standard_periods(now: datetime, months: int) -> list[Period]:
    """The running periods as of ``now``, then the ``months`` calendar months before the current one."""
    local = now.astimezone(TZ)
    days = sorted({DEFAULTS.window_days, max(7, local.day)})  # dashboard.js: the month so far, >= 7 days
    periods = [Period(f"now/{d}", now, d, True) for d in days]
    end = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(months):
        start = (end - timedelta(days=1)).replace(day=1)
        periods.append(Period(f"{start:%Y-%m}", end, (end - start).days, False))
        end = start
    return periods


async def refresh_bottlenecks(pool: AsyncConnectionPool, *, months: int, max_age_s: float, now: datetime | None = None,
                              statement_timeout_ms: int | None = None) -> list[str]:  # fmt: skip
    """Recompute the standard periods whose reports changed (running ones also when ``max_age_s`` old); their keys.

    ``statement_timeout_ms``: the job's own limit per statement (0: none), in place of the pool's (None: kept).
    """
    now = now or datetime.now(TZ)
    periods = standard_periods(now, months)
    async with pool.connection() as conn:
        await conn.execute(load_sql("analytics/prune_bottleneck_results"), {"keys": [p.key for p in periods]})
        stored = {r["key"]: r for r in await fetch_all(conn, "analytics/bottleneck_results_state")}
    refreshed = []
    for period in periods:
        async with pool.connection() as conn:
            seen = await fetch_one(conn, "analytics/reports_seen", missing="no answer")
            if _up_to_date(stored.get(period.key), seen, period, now, max_age_s):
                continue
            async with conn.transaction():
                if statement_timeout_ms is not None:
                    await conn.execute(load_sql("analytics/job_statement_timeout"), {"ms": str(statement_timeout_ms)})
                started = time.perf_counter()
                settings = replace(DEFAULTS, window_days=period.window_days)
                flags = await detect_bottlenecks(conn, now=period.at, settings=settings)
                seconds = time.perf_counter() - started
                await conn.execute(load_sql("analytics/save_bottleneck_result"), {
                    "key": period.key, "at": period.at, "window_days": period.window_days,
                    "running": period.running, "seconds": seconds,
                    "flags": Jsonb([flag_to_dict(f) for f in flags]), **seen,
                })  # fmt: skip
        log.info("bottlenecks %s: %d flags in %.1f s", period.key, len(flags), seconds)
        refreshed.append(period.key)
    return refreshed


def _up_to_date(old: dict | None, seen: dict, period: Period, now: datetime, max_age_s: float) -> bool:
    """Stored, the reports unchanged since, and (a running period) not yet ``max_age_s`` old."""
    if old is None or old["reports_version"] != seen["reports_version"]:
        return False
    return not period.running or now - old["at"] < timedelta(seconds=max_age_s)


async def stored_bottlenecks(conn: AsyncConnection, *, at: datetime | None, window_days: int,
                             max_age_s: float) -> dict | None:  # fmt: skip
    """The stored detection a request with the default settings asks for (``at`` None: now), or None."""
    now = datetime.now(TZ)
    running = at is None or abs(at - now) <= NOW_TOLERANCE
    params = {"window_days": window_days, "running": running, "at": at,
              "fresh_since": now - timedelta(seconds=max_age_s)}  # fmt: skip
    return await fetch_one(conn, "analytics/stored_bottlenecks", params)
