"""The 1900 1075 hotline (staff): file a report for a caller, log calls, list them, count them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field

from api.deps import ConnDep, SettingsDep, requires
from geo.auth import Principal
from geo.auth.roles import HOTLINE
from geo.reports import hotline, queries
from geo.reports.intake import follow_token

router = APIRouter(prefix="/api/hotline", tags=["hotline"])

MAX_DURATION = hotline.MAX_DURATION_S
# Operators (staff accounts) and the hotline's call system (an API key) share these endpoints.
Operator = Annotated[Principal, Depends(requires(HOTLINE))]


class CallFields(BaseModel):
    """What the operator records about any call."""

    started_at: datetime | None = Field(
        default=None, description="When the call began (ISO 8601; without offset: Huế time); default now - duration"
    )
    duration_s: int = Field(ge=0, le=MAX_DURATION, description="Length of the call in seconds")
    caller_phone: str | None = Field(default=None, max_length=32, description="Caller's number (staff-only data)")
    note: str | None = Field(default=None, max_length=4000)


class HotlineReport(CallFields):
    """A report taken down by an operator, and the call it came from."""

    direction: Literal["in", "out"] = "in"
    category: str = Field(description="Category code from /api/report-categories")
    description: str = Field(description="What the caller reports, 10-4000 characters")
    lon: float = Field(ge=-180, le=180, description="Longitude, EPSG:4326")
    lat: float = Field(ge=-90, le=90, description="Latitude, EPSG:4326")
    caller_name: str | None = Field(default=None, max_length=200, description="Caller's name (staff-only data)")


class CallLog(CallFields):
    """A call that filed no new report: a question, a follow-up, a call back to a citizen."""

    direction: Literal["in", "out"]
    report_code: str | None = Field(default=None, description="Code of the report the call is about")


def _call(body: CallFields, direction: str, operator: str) -> hotline.CallIn:
    return hotline.CallIn(direction=direction, duration_s=body.duration_s, operator=operator,
                          started_at=body.started_at, caller_phone=body.caller_phone, note=body.note)  # fmt: skip


@router.post("/reports", status_code=201, summary="File a report on a caller's behalf and log the call",
             responses={200: {"description": "A retry with the same Idempotency-Key: the first report"}})  # fmt: skip
async def file_report(
    conn: ConnDep,
    settings: SettingsDep,
    operator: Operator,
    body: HotlineReport,
    response: Response,
    idempotency_key: Annotated[str | None, Header(description="Retry-safe submission key")] = None,
) -> dict:
    """Channel ``hotline``; the caller's name and phone are stored as the reporter, never shown publicly."""
    filing = await hotline.file_report(
        conn, category=body.category, description=body.description, lon=body.lon, lat=body.lat,
        call=_call(body, body.direction, operator.username), caller_name=body.caller_name, settings=settings,
        idempotency_key=idempotency_key,
    )  # fmt: skip
    report = await queries.public_report(conn, code=filing.code)
    if not filing.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/reports/{filing.code}"
    return {
        "code": filing.code,
        "follow_token": follow_token(filing.code, settings.secret_key),
        "status": report["status"],
        "category": report["category"],
        "admin_unit": report["admin_unit"],
        "responsible_level": report["responsible_level"],
        "department": report["department"],
        "due_at": report["due_at"],
        "call": await hotline.get_call(conn, call_id=filing.call_id),
        "duplicates": filing.duplicates,
        "links": {"self": f"/api/reports/{filing.code}", "staff": f"/api/staff/reports/{filing.code}"},
    }


@router.post("/calls", status_code=201, summary="Log a call, optionally linked to a report")
async def log_call(conn: ConnDep, operator: Operator, body: CallLog) -> dict:
    """The operator is the signed-in account (or the hotline system's API key)."""
    call = _call(body, body.direction, operator.username)
    return await hotline.log_call(conn, call=call, report_code=body.report_code)


From = Annotated[str | None, Query(alias="from", description="Date (whole day, Huế time) or date-time")]
To = Annotated[str | None, Query(alias="to", description="Date (through its end) or date-time (exclusive)")]


@router.get("/calls", summary="Calls in a time range, newest first")
async def list_calls(
    conn: ConnDep,
    _operator: Operator,
    start: From = None,
    end: To = None,
    direction: Annotated[Literal["in", "out"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    """Default range: the last 30 days."""
    lower, upper = hotline.parse_range(start, end, now=datetime.now().astimezone())
    calls = await hotline.list_calls(conn, start=lower, end=upper, direction=direction, limit=limit, offset=offset)
    return {"from": lower, "to": upper, "direction": direction, "calls": calls}


@router.get("/stats", summary="Calls in and out by day or month, and the share that became reports")
async def stats(
    conn: ConnDep,
    start: From = None,
    end: To = None,
    by: Annotated[Literal["day", "month"], Query(description="Period of the series")] = "day",
) -> dict:
    """Periods in Huế time, zeros included; default range: the last 30 days.

    Public, like the city's published hotline figures: counts only, no caller data.
    """
    lower, upper = hotline.parse_range(start, end, now=datetime.now().astimezone())
    return await hotline.call_stats(conn, start=lower, end=upper, by=by)
