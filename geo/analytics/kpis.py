"""KPIs of citizen reports for any filter and grouping, computed in SQL (definitions: docs/kpis.md)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import psycopg
import shapely
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from geo.db import load_sql
from geo.errors import InvalidInput
from geo.times import TZ

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
                       now: datetime | None = None, as_of: datetime | None = None) -> list[dict]:  # fmt: skip
    """One row of KPIs per group (counts, shares 0-1, hours to resolve, backlog as of ``now``).

    ``as_of``: every figure as it stood at that past instant (from the reports' audit trail).
    """
    if group_by not in GROUP_KEYS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUP_KEYS)}, got {group_by!r}")
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidInput("as_of must carry a time zone offset")
    query = sql.SQL(load_sql("analytics/kpis")).format(group_key=sql.SQL(GROUP_KEYS[group_by]))
    params = {**asdict(where), "now": as_of or now or datetime.now().astimezone(), "as_of": as_of}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        rows = await cur.fetchall()
        if not rows and group_by == "none":  # no reports: say so with zeros, not with silence
            columns = [c.name for c in cur.description or []]
            rows = [{c: _empty_value(c) for c in columns} | {"key": "all"}]
    return rows


def _empty_value(column: str) -> int | None:
    """Counts are 0 over no reports; shares, means and percentiles are undefined (None)."""
    undefined = column.endswith(("_share", "_to_resolve")) or column == "mean_rating"
    return None if undefined else 0


def refresh_kpi_unit_month(conn: psycopg.Connection, *, now: datetime | None = None, since: date | None = None) -> int:
    """Rebuild ``kpi_unit_month`` (every unit and month with reports; from month ``since`` on) in one
    transaction; return the rows written."""
    rows = conn.execute(load_sql("analytics/unit_shapes")).fetchall()
    query, params = _refresh(rows, now=now, since=since)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(load_sql("analytics/clear_kpi_unit_month"), params)
        cur.execute(query, params)
        return cur.rowcount


async def refresh_kpi_months(conn: AsyncConnection, *, since: date, now: datetime | None = None) -> int:
    """The same from month ``since`` on, for the app (the simulator keeps the current months fresh)."""
    async with conn.cursor() as cur:
        await cur.execute(load_sql("analytics/unit_shapes"))
        rows = await cur.fetchall()
    query, params = await asyncio.to_thread(_refresh, rows, now=now, since=since)
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute(load_sql("analytics/clear_kpi_unit_month"), params)
        await cur.execute(query, params)
        return cur.rowcount


def _refresh(rows: list[tuple], *, now: datetime | None, since: date | None) -> tuple[sql.Composed, dict[str, Any]]:
    """The insert statement and its parameters: KPIs by unit and month, simplified unit shapes."""
    kpis = sql.SQL(load_sql("analytics/kpis")).format(group_key=sql.SQL(_UNIT_MONTH))
    insert = sql.SQL(load_sql("analytics/refresh_kpi_unit_month")).format(kpis=kpis)
    now = now or datetime.now().astimezone()
    since = since.replace(day=1) if since else None
    codes = [row[0] for row in rows]
    shapes = _simplified(tuple(bytes(row[1]) for row in rows))
    start = datetime.combine(since, time(0), TZ) if since else EPOCH
    params = {"start": start, "end": now + timedelta(days=1), "unit": None, "level": None, "category": None,
              "channel": None, "now": now, "as_of": None, "codes": codes, "shapes": list(shapes),
              "since": since}  # fmt: skip
    return insert, params


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
