"""The 1900 1075 hotline: operators file reports on callers' behalf and log every call, in or out.

A report filed on the hotline and the call that filed it are written in one transaction; the
caller's name and phone go to ``reporters`` like any reporter's (personal data, never public).
A call "became a report" when it is the first call linked to a report filed on the hotline
channel; later calls linked to the same report are follow-ups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.db import DictCursor, fetch_all, fetch_one, load_sql
from geo.errors import Conflict, InvalidInput
from geo.reports.intake import ReporterIn, ReportIn, create_report
from geo.reports.queries import MAX_OFFSET
from geo.settings import Settings
from geo.times import TZ, parse_instant

DIRECTIONS = ("in", "out")
PERIODS = ("day", "month")
MAX_DURATION_S = 24 * 3600
# Operators' clocks and ours differ a little; a call further in the future is a typo.
CLOCK_SKEW = timedelta(minutes=5)
DEFAULT_DAYS = 30
MAX_DAILY_SPAN = timedelta(days=3700)  # about ten years of daily rows; longer ranges go by month
PHONE = re.compile(r"[0-9+()./ -]{3,32}")
REPORT_CODE = re.compile(r"[A-Z0-9-]{4,16}")


@dataclass(frozen=True)
class CallIn:
    """A call as the operator logs it; ``started_at`` defaults to now minus the duration."""

    direction: str
    duration_s: int
    operator: str
    started_at: datetime | None = None
    caller_phone: str | None = None
    note: str | None = None


def check_call(call: CallIn, *, now: datetime) -> dict[str, Any]:
    """The call's columns, checked; InvalidInput naming the first bad value."""
    if call.direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be 'in' or 'out', got {call.direction!r}")
    if isinstance(call.duration_s, bool) or not isinstance(call.duration_s, int):
        raise InvalidInput(f"duration_s must be whole seconds, got {call.duration_s!r}")
    if not 0 <= call.duration_s <= MAX_DURATION_S:
        raise InvalidInput(f"duration_s must be 0-{MAX_DURATION_S} seconds, got {call.duration_s}")
    operator = call.operator.strip()
    if not operator:
        raise InvalidInput("operator is required")
    started_at = call.started_at or now - timedelta(seconds=call.duration_s)
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=TZ)
    if started_at > now + CLOCK_SKEW:
        raise InvalidInput(f"started_at {started_at.isoformat()} is in the future")
    phone = call.caller_phone.strip() if call.caller_phone else None
    if phone and not PHONE.fullmatch(phone):
        raise InvalidInput(f"caller_phone may hold 3-32 digits, spaces and + ( ) . / - only, got {phone!r}")
    note = call.note.strip() if call.note else None
    if note and len(note) > 4000:
        raise InvalidInput("note is longer than 4000 characters")
    return {"direction": call.direction, "started_at": started_at, "duration_s": call.duration_s,
            "operator": operator[:100], "caller_phone": phone or None, "note": note or None}  # fmt: skip


async def _insert_call(cur: DictCursor, params: dict[str, Any], report_id: int | None, synthetic: bool) -> int:
    await cur.execute(load_sql("hotline/insert_call"), {**params, "report_id": report_id, "synthetic": synthetic})
    row = await cur.fetchone()
    assert row is not None  # INSERT … RETURNING always returns the row
    return row["id"]


async def _report(cur: DictCursor, code: str) -> dict[str, Any] | None:
    await cur.execute(load_sql("hotline/report_id"), {"code": code})
    return await cur.fetchone()


@dataclass(frozen=True)
class Filing:
    """A report filed on the hotline and the call that filed it."""

    code: str
    call_id: int
    created: bool
    duplicates: list[dict]


async def file_report(
    conn: AsyncConnection,
    *,
    category: str,
    description: str,
    lon: float,
    lat: float,
    call: CallIn,
    settings: Settings,
    caller_name: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    synthetic: bool = False,
) -> Filing:
    """File a report for a caller (channel ``hotline``) and log the call; one transaction, nothing on error.

    A retry with the same ``idempotency_key`` returns the first report and its call, writing nothing.
    ``synthetic``: the simulator's call and report (layers/simulator.py), never a real caller's.
    """
    now = now or datetime.now().astimezone()
    params = check_call(call, now=now)
    name = caller_name.strip() if caller_name else None
    if name and len(name) > 200:
        raise InvalidInput("caller_name is longer than 200 characters")
    report = ReportIn(
        category=category,
        description=description,
        lon=lon,
        lat=lat,
        channel="hotline",
        reporter=ReporterIn(full_name=name or None, phone=params["caller_phone"]),
    )
    # create_report's own transaction becomes a savepoint inside this one: report and call commit together.
    async with conn.transaction():
        result = await create_report(
            conn, report=report, settings=settings, idempotency_key=idempotency_key, now=now, synthetic=synthetic
        )
        async with conn.cursor(row_factory=dict_row) as cur:
            if not result.created:
                await cur.execute(load_sql("hotline/filing_call"), {"code": result.code})
                first = await cur.fetchone()
                if first is None:
                    raise Conflict(f"Idempotency-Key {idempotency_key!r} was used for {result.code}, not filed here")
                return Filing(result.code, first["id"], created=False, duplicates=result.duplicates)
            row = await _report(cur, result.code)
            assert row is not None  # written a moment ago in this transaction
            call_id = await _insert_call(cur, params, row["id"], synthetic)
    return Filing(result.code, call_id, created=True, duplicates=result.duplicates)


async def log_call(conn: AsyncConnection, *, call: CallIn, report_code: str | None = None,
                   now: datetime | None = None, synthetic: bool = False) -> dict[str, Any]:  # fmt: skip
    """Log a call, linked to an existing report when ``report_code`` names one; return it (``synthetic``: the
    simulator's)."""
    now = now or datetime.now().astimezone()
    params = check_call(call, now=now)
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        report_id = None
        if report_code is not None:
            code = report_code.strip().upper()
            report = await _report(cur, code) if REPORT_CODE.fullmatch(code) else None
            if report is None:
                raise InvalidInput(f"report_code {report_code!r} names no report")
            report_id = report["id"]
        call_id = await _insert_call(cur, params, report_id, synthetic)
        await cur.execute(load_sql("hotline/call"), {"id": call_id})
        row = await cur.fetchone()
    assert row is not None
    return row


async def get_call(conn: AsyncConnection, *, call_id: int) -> dict[str, Any]:
    """One call with the code of its report."""
    row = await fetch_one(conn, "hotline/call", {"id": call_id}, missing=f"no hotline call {call_id}")
    return row


def parse_range(start: str | None, end: str | None, *, now: datetime,
                default_days: int = DEFAULT_DAYS) -> tuple[datetime, datetime]:  # fmt: skip
    """``from``/``to`` query values into [start, end); the last ``default_days`` days by default."""
    upper = parse_instant("to", end, upper=True) if end else now
    lower = parse_instant("from", start) if start else upper - timedelta(days=default_days)
    if lower >= upper:
        raise InvalidInput(f"from ({lower.isoformat()}) must be before to ({upper.isoformat()})")
    return lower, upper


async def list_calls(
    conn: AsyncConnection,
    *,
    start: datetime,
    end: datetime,
    direction: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Calls started in [start, end), newest first."""
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be 'in' or 'out', got {direction!r}")
    if not 1 <= limit <= 1000 or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"limit must be 1-1000 and offset 0-{MAX_OFFSET}, got {limit} and {offset}")
    async with conn.cursor(row_factory=dict_row) as cur:
        params = {"start": start, "end": end, "direction": direction, "limit": limit, "offset": offset}
        await cur.execute(load_sql("hotline/calls"), params)
        return await cur.fetchall()


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def call_stats(conn: AsyncConnection, *, start: datetime, end: datetime, by: str = "day") -> dict[str, Any]:
    """Calls in and out per day or month (Huế time) and the share of calls that became reports."""
    if by not in PERIODS:
        raise InvalidInput(f"by must be 'day' or 'month', got {by!r}")
    if by == "day" and end - start > MAX_DAILY_SPAN:
        raise InvalidInput(f"a daily series may span at most {MAX_DAILY_SPAN.days} days; use by=month")
    rows = await fetch_all(conn, "hotline/stats", {"start": start, "end": end, "by": by})
    series = [
        {
            "period": row["period"].isoformat()[: 7 if by == "month" else 10],
            "in": row["calls_in"],
            "out": row["calls_out"],
            "calls": row["calls"],
            "became_reports": row["became_reports"],
            "report_share": _share(row["became_reports"], row["calls"]),
        }
        for row in rows
    ]
    totals = {key: sum(p[key] for p in series) for key in ("in", "out", "calls", "became_reports")}
    totals["report_share"] = _share(totals["became_reports"], totals["calls"])
    return {"from": start.isoformat(), "to": end.isoformat(), "by": by, "totals": totals, "series": series}
