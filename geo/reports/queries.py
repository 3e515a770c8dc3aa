"""Read side of reports: the public view and timeline, public GeoJSON, staff queues and details.

Staff reads take the ``Principal``: a queue is limited to its unit or department (city-wide roles
see all), and a reporter's name, phone and email, staff notes, extension reasons and the rating
comment (free text that may name people) are shown only to the unit or department handling the
report. The public timeline carries no free text but the result of a resolve or reject.
"""

from __future__ import annotations

from datetime import datetime

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.auth.policy import Principal, may_see_reporter, queue_scope, require_on_report
from geo.auth.roles import READ_REPORTS
from geo.db import fetch_all, fetch_one, load_sql
from geo.errors import InvalidInput
from geo.planning import REPORT_CATEGORY, report_planning

MAX_PAGE = 1000
# Actions whose note is the result written for the public (reports/timeline.sql says the same).
PUBLIC_NOTES = ("resolve", "reject")
# Deep paging costs a scan of every skipped row (and past 2**63 PostgreSQL overflows): narrow the filter instead.
MAX_OFFSET = 1_000_000


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE}, got {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be 0-{MAX_OFFSET}, got {offset}")


async def list_categories(conn: AsyncConnection) -> list[dict]:
    """The category catalogue with department names."""
    return await fetch_all(conn, "reports/categories")


async def public_report(conn: AsyncConnection, *, code: str) -> dict:
    """What anyone may see of a report: status, routing, result and timeline, no personal data."""
    report = await fetch_one(conn, "reports/public", {"code": code}, missing=f"no report with code {code!r}")
    report["timeline"] = await fetch_all(conn, "reports/timeline", {"report_id": report.pop("id")})
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
    principal: Principal,
    now: datetime,
    unit: str | None = None,
    department: str | None = None,
    status: str | None = None,
    overdue_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Open reports a unit or department must handle, oldest deadline first (within the principal's scope)."""
    _page(limit, offset)
    unit, department = queue_scope(principal, unit=unit, department=department)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            load_sql("reports/staff_queue"),
            {"now": now, "unit": unit, "department": department, "status": status, "overdue_only": overdue_only,
             "limit": limit, "offset": offset},
        )  # fmt: skip
        return await cur.fetchall()


async def staff_report(conn: AsyncConnection, *, code: str, principal: Principal) -> dict:
    """A report with its full audit trail, its reporter for the unit or department handling it, and
    for a construction violation its planning check."""
    report = await fetch_one(conn, "reports/staff_detail", {"code": code}, missing=f"no report with code {code!r}")
    require_on_report(principal, READ_REPORTS, report)
    report["reporter_visible"] = may_see_reporter(principal, report)
    report["events"] = await fetch_all(conn, "reports/staff_events", {"code": code})
    if not report["reporter_visible"]:  # personal data and free text: only for the handlers of the report
        report["reporter"] = report["rating_comment"] = None
        for event in report["events"]:
            if event["action"] not in PUBLIC_NOTES:
                event["note"] = None
    # Construction violations: the zone and parcel there, the nearest permit and whether it fits the zone.
    report["planning"] = await report_planning(conn, code=code) if report["category"] == REPORT_CATEGORY else None
    return report
