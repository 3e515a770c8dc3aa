"""The audit log: every staff write outside the report workflow, with actor, role, time and object.

Report actions are audited in ``report_events`` (their own trail); everything else (disaster zones,
flood exercises, hot-spot runs, account and key administration, sign-ins) is one ``audit_log`` row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geo.db import load_sql


@dataclass(frozen=True)
class Actor:
    """Who acted, as the audit log records it."""

    name: str
    role: str


async def record(
    conn: AsyncConnection,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> datetime:
    """Write one audit row (inside the caller's transaction, if any); return its time."""
    async with conn.cursor() as cur:
        await cur.execute(
            load_sql("auth/audit_insert"),
            {"actor": actor.name[:200], "role": actor.role, "action": action, "object_type": object_type,
             "object_id": None if object_id is None else str(object_id), "details": Jsonb(details or {})},
        )  # fmt: skip
        row = await cur.fetchone()
    assert row is not None
    return row[1]


async def entries(
    conn: AsyncConnection, *, object_type: str | None = None, object_id: str | int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest audit rows, optionally of one object."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            load_sql("auth/audit_list"),
            {"object_type": object_type, "object_id": None if object_id is None else str(object_id), "limit": limit},
        )
        return await cur.fetchall()
