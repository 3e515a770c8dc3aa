"""KPIs of citizen reports for any filter and grouping, computed in SQL (definitions: docs/kpis.md)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import psycopg
import shapely
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from geo.db import load_sql
from geo.errors import InvalidInput
from geo.times import TZ

log = logging.getLogger("huegis.kpis")
GroupBy = Literal["none", "unit", "level", "category", "channel", "month", "week"]

# The SQL expression behind each grouping key (times bucketed in Huế's zone).
GROUP_KEYS: dict[str, str] = {
    "none": "'all'::text",
    "unit": "r.admin_unit_code",
    "level": "u.level",
    "category": "r.category",
    "channel": "r.channel",
    "month": "to_char(date_trunc('month', r.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh'), 'YYYY-MM')",
    "week": "to_char(date_trunc('week', r.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh'), 'IYYY-\"W\"IW')",
}
# Internal: unit and month together, for the kpi_unit_month layer.
_UNIT_MONTH = "r.admin_unit_code || '/' || " + GROUP_KEYS["month"]
# The groupings kpi_unit_month answers, as keys over its rows (the same values as GROUP_KEYS).
MONTH_KEYS: dict[str, str] = {
    "none": "'all'::text",
    "unit": "m.unit_code",
    "level": "m.level",
    "month": "to_char(m.month, 'YYYY-MM')",
}
# What kpi_unit_month keeps besides the layer's figures so that months add up exactly: the rating
# sum (mean = sum / count) and every resolved report's hours (percentiles are not additive).
MONTH_COLUMNS = (
    ", sum(rating) AS rating_sum,"
    " array_agg(hours_to_resolve::float8) FILTER (WHERE hours_to_resolve IS NOT NULL) AS hours_to_resolve"
)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# kpi_unit_month repeats each ward's polygon every month: drawn a few metres coarser (shared
# edges simplified once, so neighbours still meet), a page of 1,000 rows is ~14 MB, not 53 MB.
SHAPE_TOLERANCE_M = 5.0


@dataclass(frozen=True)
class KpiFilter:
    """Which reports count: received in [start, end) and matching every given field."""

    start: datetime
    end: datetime
    unit: str | None = None
    level: Literal["ward", "commune"] | None = None
    category: str | None = None
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidInput("start and end must carry a time zone offset")
        if self.end <= self.start:
            raise InvalidInput(f"period end {self.end.isoformat()} must be after start {self.start.isoformat()}")

    def previous(self) -> KpiFilter:
        """The period of the same length just before this one."""
        length = self.end - self.start
        return KpiFilter(self.start - length, self.start, self.unit, self.level, self.category, self.channel)


async def compute_kpis(conn: AsyncConnection, *, where: KpiFilter, group_by: GroupBy = "none",
                       now: datetime | None = None, as_of: datetime | None = None,
                       from_months: bool = True) -> list[dict]:  # fmt: skip
    """One row of KPIs per group (counts, shares 0-1, hours to resolve, backlog as of ``now``).

    ``as_of``: every figure as it stood at that past instant (from the reports' audit trail).
    A period of whole months that ``kpi_unit_month`` holds complete is summed from it (the same
    figures: :func:`kpis_from_months`) unless ``from_months`` is false; anything else reads the reports.
    """
    if group_by not in GROUP_KEYS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUP_KEYS)}, got {group_by!r}")
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidInput("as_of must carry a time zone offset")
    now = as_of or now or datetime.now().astimezone()
    if from_months and as_of is None:
        summed = await kpis_from_months(conn, where=where, group_by=group_by, now=now)
        if summed is not None:
            return summed
    query = sql.SQL(load_sql("analytics/kpis")).format(
        group_key=sql.SQL(GROUP_KEYS[group_by]), month_columns=sql.SQL("")
    )
    params = {**asdict(where), "units": None, "now": now, "as_of": as_of}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return _or_empty(await cur.fetchall(), cur, group_by)


async def kpis_from_months(
    conn: AsyncConnection, *, where: KpiFilter, group_by: GroupBy, now: datetime
) -> list[dict] | None:
    """The KPIs of :func:`compute_kpis` summed from ``kpi_unit_month``, or None when it cannot answer exactly.

    It can when the period is whole calendar months (Huế time), the grouping and filters are ones its
    rows carry (unit, level; not category or channel), and every month is complete: built, not written
    since (``kpi_dirty_months``), no report of it outside the table's units (geo/sql/analytics/kpis_from_months.sql).
    """
    months = whole_months(where.start, where.end)
    if months is None or group_by not in MONTH_KEYS or where.category is not None or where.channel is not None:
        return None
    first_month, end_month = months
    query = sql.SQL(load_sql("analytics/kpis_from_months")).format(
        month_key=sql.SQL(MONTH_KEYS[group_by]), group_key=sql.SQL(GROUP_KEYS[group_by])
    )
    params = {"start": where.start, "end": where.end, "first_month": first_month, "end_month": end_month,
              "months": (end_month.year - first_month.year) * 12 + end_month.month - first_month.month,
              "unit": where.unit, "level": where.level, "now": now}  # fmt: skip
    async with conn.cursor(row_factory=dict_row) as cur:
        # Never prepared: a generic plan (after psycopg's 5th execution) cannot see which filters are
        # null nor how few rows the period has, and took 2.5 s instead of 60 ms at 0.2 M reports.
        await cur.execute(query, params, prepare=False)
        rows = await cur.fetchall()
        if not rows or not rows[0].pop("ready"):
            return None
        for row in rows[1:]:
            del row["ready"]
        groups = [row for row in rows if row["key"] is not None]  # one row of nulls: no group
        return _or_empty(groups, cur, group_by)


def whole_months(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The first month and the month after the last, when [start, end) is whole calendar months in Huế time."""
    first, last = start.astimezone(TZ), end.astimezone(TZ)
    if first != _month_start(first) or last != _month_start(last):
        return None
    return first.date(), last.date()


def _month_start(t: datetime) -> datetime:
    return t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _or_empty(rows: list[dict], cur: Any, group_by: str) -> list[dict]:
    """No reports: say so with zeros for ``group_by=none``, not with silence."""
    if not rows and group_by == "none":
        columns = [c.name for c in cur.description or [] if c.name != "ready"]
        return [{c: _empty_value(c) for c in columns} | {"key": "all"}]
    return rows


def _empty_value(column: str) -> int | None:
    """Counts are 0 over no reports; shares, means and percentiles are undefined (None)."""
    undefined = column.endswith(("_share", "_to_resolve")) or column == "mean_rating"
    return None if undefined else 0


def refresh_kpi_unit_month(conn: psycopg.Connection, *, now: datetime | None = None, since: date | None = None) -> int:
    """Rebuild ``kpi_unit_month`` (every unit and month with reports, up to the month of ``now``; from
    month ``since`` on) in one repeatable-read transaction; mark its months built; return the rows written.

    ``conn`` must be in autocommit mode (or idle): the transaction's isolation is set at its start.
    """
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        rows = conn.execute(load_sql("analytics/unit_shapes")).fetchall()
        conn.execute(load_sql("analytics/save_kpi_unit_shapes"), _shape_params(rows))
        query, params = _refresh(now=now, since=since)
        with conn.cursor() as cur:
            cur.execute(load_sql("analytics/clear_kpi_unit_month"), params)
            cur.execute(query, params)
            written = cur.rowcount
            cur.execute(load_sql("analytics/build_kpi_months"), params)
        return written


async def refresh_kpi_months(conn: AsyncConnection, *, since: date, now: datetime | None = None) -> int:
    """The same from month ``since`` on, for the app (the simulator keeps the current months' backlog fresh)."""
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        await _save_shapes(cur)
        query, params = _refresh(now=now, since=since)
        await cur.execute(load_sql("analytics/clear_kpi_unit_month"), params)
        await cur.execute(query, params)
        written = cur.rowcount
        await cur.execute(load_sql("analytics/build_kpi_months"), params)
        return written


async def refresh_touched_kpi_months(conn: AsyncConnection, *, now: datetime | None = None) -> dict[str, int]:
    """Recompute only the unit-months written since they were computed (``kpi_dirty_months``), not the table.

    One repeatable-read transaction: the marks it takes off are exactly those its snapshot sees, so a
    write committed meanwhile stays marked (its month is read from the reports until the next run).
    Returns the months and unit-months recomputed and the rows written.
    """
    done = {"months": 0, "unit_months": 0, "rows": 0}
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        await cur.execute(load_sql("analytics/take_kpi_dirty_months"))
        touched = [(month, units) for month, units in await cur.fetchall() if units]
        units = sorted({unit for _, month_units in touched for unit in month_units})
        await cur.execute(load_sql("analytics/kpi_units_without_shape"), {"units": units})
        if await cur.fetchall():  # a unit new since the last rebuild: simplify the shapes again
            await _save_shapes(cur)
        for month, month_units in touched:
            query, params = _refresh(now=now, since=month, units=month_units)
            await cur.execute(load_sql("analytics/clear_kpi_unit_month"), params)
            await cur.execute(query, params)
            done["months"] += 1
            done["unit_months"] += len(month_units)
            done["rows"] += cur.rowcount
    return done


async def refresh_touched_job(pool: AsyncConnectionPool) -> dict[str, int]:
    """The ``kpi-months`` job (geo/jobs.py): :func:`refresh_touched_kpi_months` on a pool connection."""
    async with pool.connection() as conn:
        done = await refresh_touched_kpi_months(conn)
    if done["months"]:
        log.info("kpi_unit_month: %(unit_months)d unit-months of %(months)d months recomputed", done)
    return done


async def _save_shapes(cur: psycopg.AsyncCursor[Any]) -> None:
    """Every unit's simplified polygon into ``kpi_unit_shapes`` (simplified together: neighbours keep meeting)."""
    await cur.execute(load_sql("analytics/unit_shapes"))
    rows = await cur.fetchall()
    params = await asyncio.to_thread(_shape_params, rows)
    await cur.execute(load_sql("analytics/save_kpi_unit_shapes"), params)


def _shape_params(rows: list[tuple]) -> dict[str, Any]:
    return {"codes": [row[0] for row in rows], "shapes": list(_simplified(tuple(bytes(row[1]) for row in rows)))}


def _refresh(
    *, now: datetime | None, since: date | None, units: list[str] | None = None
) -> tuple[sql.Composed, dict[str, Any]]:
    """The insert statement and its parameters: KPIs by unit and month with the month sums, from month
    ``since`` (only month ``since`` of ``units``, if given) up to the month of ``now``."""
    kpis = sql.SQL(load_sql("analytics/kpis")).format(
        group_key=sql.SQL(_UNIT_MONTH), month_columns=sql.SQL(MONTH_COLUMNS)
    )
    insert = sql.SQL(load_sql("analytics/refresh_kpi_unit_month")).format(kpis=kpis)
    now = now or datetime.now().astimezone()
    since = since.replace(day=1) if since else None
    start = datetime.combine(since, time(0), TZ) if since else EPOCH
    end_month = _next_month(since) if since and units is not None else _next_month(now.astimezone(TZ).date())
    params = {"start": start, "end": datetime.combine(end_month, time(0), TZ), "unit": None, "level": None,
              "category": None, "channel": None, "units": units, "now": now, "as_of": None, "since": since,
              "end_month": end_month}  # fmt: skip
    return insert, params


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


@lru_cache(maxsize=2)
def _simplified(wkbs: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """The units' shapes simplified (cached: the same wards give the same shapes)."""
    return tuple(shapely.to_wkb(simplify_coverage(shapely.from_wkb(list(wkbs)), SHAPE_TOLERANCE_M)))


def simplify_coverage(polygons: np.ndarray, tolerance: float) -> np.ndarray:
    """Polygons that tile an area, simplified by Douglas-Peucker without gaps or overlaps.

    Every shared edge (between two junctions) is simplified once, ends fixed, and the faces are
    rebuilt, so neighbours keep meeting exactly and no vertex moves more than ``tolerance`` (in
    the polygons' units: metres in a projected CRS). Should a face vanish or a polygon come out
    invalid, GEOS's coverage simplifier (Visvalingam-Whyatt, topology kept too) is used instead.
    """
    edges = shapely.get_parts(shapely.line_merge(shapely.union_all(shapely.boundary(polygons))))
    faces = shapely.get_parts(shapely.polygonize(shapely.simplify(edges, tolerance, preserve_topology=False)))
    face_index, polygon_index = shapely.STRtree(polygons).query(shapely.point_on_surface(faces), predicate="within")
    out = np.array([shapely.union_all(faces[face_index[polygon_index == i]]) for i in range(len(polygons))])
    if shapely.is_empty(out).any() or not shapely.is_valid(out).all():
        return shapely.coverage_simplify(polygons, tolerance)
    return out
