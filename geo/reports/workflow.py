"""The report workflow: status transitions, routing decisions, deadlines, ratings.

received → assigned → in_progress → resolved → closed, plus rejected, duplicate and reopened.
Every step, including decisions that keep the status (re-route, escalate, extensions), is a
``report_events`` row with actor, time, from/to status, note and structured details (the actor's
role included). Staff actions are authorised here, against the report's responsible unit or
department (``geo.auth.policy``), not in the web layer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geo.admin import check_department, check_ward
from geo.auth.policy import Principal, require_action, require_on_report
from geo.db import DictCursor, load_sql
from geo.errors import Conflict, InvalidInput, NotFound
from geo.reports.catalogue import ESCALATION_DEPARTMENT
from geo.reports.sla import add_working_hours

OPEN_STATUSES = ("received", "assigned", "in_progress", "reopened")


@dataclass(frozen=True)
class Step:
    """What an action may start from and where it leads (None: the status does not change)."""

    allowed_from: tuple[str, ...]
    to_status: str | None
    needs_note: bool = False


STEPS: dict[str, Step] = {
    "assign": Step(("received", "reopened"), "assigned"),
    "start": Step(("assigned",), "in_progress"),
    "resolve": Step(("in_progress",), "resolved", needs_note=True),
    "reject": Step(("received", "assigned"), "rejected", needs_note=True),
    "mark_duplicate": Step(("received", "assigned", "in_progress"), "duplicate"),
    "close": Step(("resolved",), "closed"),
    "reroute": Step(("received", "assigned", "reopened"), None, needs_note=True),
    "escalate": Step(OPEN_STATUSES, None, needs_note=True),
    "request_extension": Step(("assigned", "in_progress", "reopened"), None, needs_note=True),
    "approve_extension": Step(("assigned", "in_progress", "reopened"), None),
    "reject_extension": Step(("assigned", "in_progress", "reopened"), None, needs_note=True),
}
# Timestamp column set when a status is entered.
STAMPS = {"assigned": "assigned_at", "in_progress": "started_at", "resolved": "resolved_at", "closed": "closed_at"}
MAX_EXTENSION_HOURS = 240  # 30 working days


async def _lock(cur: DictCursor, code: str) -> dict:
    await cur.execute(load_sql("reports/for_update"), {"code": code})
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"no report with code {code!r}")
    return row


async def _record(cur: DictCursor, report: dict, *, action: str, actor: str, to_status: str, note: str | None,
                  now: datetime, details: dict[str, Any] | None = None) -> None:  # fmt: skip
    await cur.execute(
        load_sql("reports/insert_event"),
        {
            "report_id": report["id"],
            "at": now,
            "actor": actor,
            "action": action,
            "from_status": report["status"],
            "to_status": to_status,
            "note": note,
            "details": Jsonb(details or {}),
        },
    )


async def _update(cur: DictCursor, report_id: int, now: datetime, **columns: Any) -> None:
    """Set columns of one report (names are ours, values bound)."""
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in columns
    )
    query = sql.SQL("UPDATE citizen_reports SET {}, updated_at = %(now)s WHERE id = %(id)s").format(assignments)
    await cur.execute(query, {**columns, "now": now, "id": report_id})


async def apply_action(
    conn: AsyncConnection,
    *,
    code: str,
    action: str,
    principal: Principal,
    now: datetime | None = None,
    note: str | None = None,
    department: str | None = None,
    unit_code: str | None = None,
    duplicate_of: str | None = None,
    hours: int | None = None,
) -> str:
    """Apply one staff action to a report; return its status afterwards.

    Raises ``Forbidden`` when the principal's role may not take the action or the report is not
    in its scope, ``NotFound`` for an unknown report, ``InvalidInput`` for missing or bad parameters
    and ``Conflict`` (HTTP 409) when the action is not allowed from the report's current status.
    """
    step = STEPS.get(action)
    if step is None:
        raise InvalidInput(f"unknown action {action!r}; one of {', '.join(STEPS)}")
    permission = require_action(principal, action)
    note = note.strip() if note else None
    if step.needs_note and not note:
        raise InvalidInput(f"action {action!r} needs a note saying why")
    now = now or datetime.now().astimezone()
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        report = await _lock(cur, code)
        require_on_report(principal, permission, report)
        if report["status"] not in step.allowed_from:
            raise Conflict(
                f"cannot {action} report {code} in status {report['status']!r} "
                f"(allowed from: {', '.join(step.allowed_from)})"
            )
        handler: Handler = _HANDLERS.get(action, _transition)
        to_status, details = await handler(
            cur, report, step=step, now=now, note=note, department=department, unit_code=unit_code,
            duplicate_of=duplicate_of, hours=hours,
        )  # fmt: skip
        await _record(cur, report, action=action, actor=principal.username, to_status=to_status, note=note, now=now,
                      details={**details, "role": principal.role})  # fmt: skip
    return to_status


async def _transition(cur: DictCursor, report: dict, *, step: Step, now: datetime, note: str | None = None,
                      **_: Any) -> tuple[str, dict]:  # fmt: skip
    to_status = step.to_status or report["status"]
    columns: dict[str, Any] = {"status": to_status}
    if to_status in STAMPS:
        columns[STAMPS[to_status]] = now
    if to_status in ("resolved", "rejected"):  # the public result: what was done, or why not
        columns["result_note"] = note
    await _update(cur, report["id"], now, **columns)
    return to_status, {}


async def _mark_duplicate(cur: DictCursor, report: dict, *, step: Step, now: datetime, duplicate_of: str | None,
                          **_: Any) -> tuple[str, dict]:  # fmt: skip
    if not duplicate_of:
        raise InvalidInput("mark_duplicate needs duplicate_of: the code of the report to follow instead")
    if duplicate_of == report["code"]:
        raise InvalidInput("a report cannot be a duplicate of itself")
    await cur.execute(
        "SELECT id, status, duplicate_of FROM citizen_reports WHERE code = %(code)s", {"code": duplicate_of}
    )
    target = await cur.fetchone()
    if target is None:
        raise InvalidInput(f"duplicate_of names no report: {duplicate_of!r}")
    if target["status"] == "duplicate":
        raise InvalidInput(f"{duplicate_of} is itself a duplicate; point to the report it duplicates")
    await _update(cur, report["id"], now, status="duplicate", duplicate_of=target["id"])
    return "duplicate", {"duplicate_of": duplicate_of}


async def _reroute(cur: DictCursor, report: dict, *, now: datetime, department: str | None, unit_code: str | None,
                   **_: Any) -> tuple[str, dict]:  # fmt: skip
    """'Not our competence': hand the report to a city department or to a ward/commune."""
    if bool(department) == bool(unit_code):
        raise InvalidInput("reroute needs exactly one of department (city level) or unit_code (ward/commune)")
    before = {"responsible_level": report["responsible_level"], "department": report["department"],
              "admin_unit_code": report["admin_unit_code"]}  # fmt: skip
    if department:
        await check_department(cur.connection, department)
        after: dict[str, str | None] = {"responsible_level": "city", "department": department}
    else:
        assert unit_code is not None
        await check_ward(cur.connection, unit_code, field="unit_code")
        after = {"responsible_level": "ward", "department": None, "admin_unit_code": unit_code}
    if all(before.get(k) == v for k, v in after.items()):
        raise InvalidInput("reroute target is the unit already responsible")
    await _update(cur, report["id"], now, **after)
    return report["status"], {"from": before, "to": after}


async def _escalate(cur: DictCursor, report: dict, *, now: datetime, department: str | None,
                    **_: Any) -> tuple[str, dict]:  # fmt: skip
    if report["escalated_at"] is not None:
        raise Conflict(f"report {report['code']} is already escalated to the city level")
    target = department or report["department"] or report["category_department"] or ESCALATION_DEPARTMENT
    await check_department(cur.connection, target)
    await _update(cur, report["id"], now, responsible_level="city", department=target, escalated_at=now)
    return report["status"], {"department": target}


async def _request_extension(cur: DictCursor, report: dict, *, now: datetime, hours: int | None,
                             **_: Any) -> tuple[str, dict]:  # fmt: skip
    if hours is None or not 1 <= hours <= MAX_EXTENSION_HOURS:
        raise InvalidInput(f"request_extension needs hours between 1 and {MAX_EXTENSION_HOURS} (working hours)")
    if report["extension_status"] is not None:
        raise Conflict(f"report {report['code']} already has an extension ({report['extension_status']})")
    await _update(cur, report["id"], now, extension_status="requested", extension_hours=hours)
    return report["status"], {"hours": hours}


async def _decide_extension(cur: DictCursor, report: dict, *, now: datetime, approve: bool) -> tuple[str, dict]:
    if report["extension_status"] != "requested":
        raise Conflict(f"report {report['code']} has no extension request waiting for a decision")
    if approve:
        due = add_working_hours(report["due_at"], report["extension_hours"])
        await _update(cur, report["id"], now, extension_status="approved", due_at=due)
        # The deadline it replaces too: KPIs as of an earlier instant need the deadline in force then.
        details = {"hours": report["extension_hours"], "due_at": due.isoformat(),
                   "previous_due_at": report["due_at"].isoformat()}  # fmt: skip
        return report["status"], details
    await _update(cur, report["id"], now, extension_status="rejected")
    return report["status"], {}


async def _approve_extension(cur: DictCursor, report: dict, *, now: datetime, **_: Any) -> tuple[str, dict]:
    return await _decide_extension(cur, report, now=now, approve=True)


async def _reject_extension(cur: DictCursor, report: dict, *, now: datetime, **_: Any) -> tuple[str, dict]:
    return await _decide_extension(cur, report, now=now, approve=False)


Handler = Callable[..., Awaitable[tuple[str, dict]]]
_HANDLERS: dict[str, Handler] = {
    "mark_duplicate": _mark_duplicate,
    "reroute": _reroute,
    "escalate": _escalate,
    "request_extension": _request_extension,
    "approve_extension": _approve_extension,
    "reject_extension": _reject_extension,
}


async def rate_report(conn: AsyncConnection, *, code: str, rating: int, comment: str | None = None,
                      now: datetime | None = None) -> str:  # fmt: skip
    """The citizen rates the result (1-5): 3 or more closes it; 2 or less reopens it, once."""
    if not 1 <= rating <= 5:
        raise InvalidInput(f"rating must be 1-5, got {rating}")
    now = now or datetime.now().astimezone()
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        report = await _lock(cur, code)
        if report["status"] != "resolved":
            raise Conflict(
                f"report {code} can be rated once it is resolved; it is {report['status']!r}", code="not_resolved"
            )
        reopen = rating <= 2 and report["reopened_count"] == 0
        columns: dict[str, Any] = {"rating": rating, "rating_comment": comment.strip() if comment else None}
        if reopen:
            columns |= {"status": "reopened", "reopened_count": 1, "resolved_at": None}
        else:
            columns |= {"status": "closed", "closed_at": now}
        await _update(cur, report["id"], now, **columns)
        to_status = columns["status"]
        await _record(cur, report, action="reopen" if reopen else "rate", actor="citizen", to_status=to_status,
                      note=columns["rating_comment"], now=now, details={"rating": rating})  # fmt: skip
    return to_status


async def escalate_overdue(conn: AsyncConnection, *, now: datetime | None = None) -> int:
    """Escalate every open report whose deadline has passed; return how many were escalated."""
    now = now or datetime.now().astimezone()
    async with conn.transaction(), conn.cursor() as cur:
        # Read first: an UPDATE of no rows would still bump the layer's version (statement trigger).
        await cur.execute(load_sql("reports/any_overdue"), {"now": now})
        if not (await cur.fetchone() or (False,))[0]:
            return 0
        await cur.execute(load_sql("reports/escalate_overdue"), {"now": now, "fallback": ESCALATION_DEPARTMENT})
        return len(await cur.fetchall())
