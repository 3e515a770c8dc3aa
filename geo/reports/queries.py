"""Read side of reports: the public view and timeline, public GeoJSON, staff queues and details."""

from __future__ import annotations

from datetime import datetime

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.db import load_sql
from geo.errors import InvalidInput, NotFound

MAX_PAGE = 1000


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE}, got {limit}")
    if offset < 0:
        raise InvalidInput(f"offset must be >= 0, got {offset}")


async def list_categories(conn: AsyncConnection) -> list[dict]:
    """The category catalogue with department names."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("reports/categories"))
        return await cur.fetchall()


async def public_report(conn: AsyncConnection, *, code: str) -> dict:
    """What anyone may see of a report: status, routing, result and timeline, no personal data."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("reports/public"), {"code": code})
        report = await cur.fetchone()
        if report is None:
            raise NotFound(f"no report with code {code!r}")
        await cur.execute(load_sql("reports/timeline"), {"report_id": report.pop("id")})
        report["timeline"] = await cur.fetchall()
    return report


async def public_reports_geojson(
    conn: AsyncConnection,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    status: str | None = None,
    category: str | None = None,
    unit: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> str:
    """Public reports as GeoJSON text, newest first (serialised by PostGIS)."""
    _page(limit, offset)
    params = {"bbox": list(bbox) if bbox else None, "status": status, "category": category, "unit": unit,
              "limit": limit, "offset": offset}  # fmt: skip
    async with conn.cursor() as cur:
        await cur.execute(load_sql("reports/list_geojson"), params)
        row = await cur.fetchone()
    assert row is not None  # an aggregate always returns one row
    return row[0]


async def staff_queue(
    conn: AsyncConnection,
    *,
    now: datetime,
    unit: str | None = None,
    department: str | None = None,
    status: str | None = None,
    overdue_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Open reports a unit or department must handle, oldest deadline first."""
    _page(limit, offset)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            load_sql("reports/staff_queue"),
            {"now": now, "unit": unit, "department": department, "status": status, "overdue_only": overdue_only,
             "limit": limit, "offset": offset},
        )  # fmt: skip
        return await cur.fetchall()


async def staff_report(conn: AsyncConnection, *, code: str) -> dict:
    """A report with its reporter and full audit trail (staff only)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("reports/staff_detail"), {"code": code})
        report = await cur.fetchone()
        if report is None:
            raise NotFound(f"no report with code {code!r}")
        await cur.execute(load_sql("reports/staff_events"), {"code": code})
        report["events"] = await cur.fetchall()
    return report
