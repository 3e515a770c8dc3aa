"""``/healthz``: is the platform able to serve? (503 when the database is not reachable).

The public answer is a status only; signed-in staff and machine clients also get the database's
versions and the reason of a failure (build strings help an attacker pick an exploit).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security.utils import get_authorization_scheme_param
from psycopg.rows import dict_row

from api.deps import PoolDep, PoolsDep, SettingsDep, authenticate
from geo.db import load_sql

router = APIRouter(tags=["health"])


async def is_staff(request: Request, pool: PoolDep, settings: SettingsDep) -> bool:
    """True when the request carries valid staff or machine credentials (none or invalid: a public caller)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    bearer = token if token and scheme.lower() == "bearer" else None
    key = request.headers.get("x-api-key")
    if not bearer and not key:
        return False
    try:
        async with pool.connection(timeout=3) as conn:
            await authenticate(conn, settings, bearer, key)
    except Exception:  # invalid credentials (401), or no database (the answer below says so): public
        return False
    return True


# What anyone may see of a replica; staff also see its address, LSN and the last error.
PUBLIC_REPLICA_FIELDS = ("name", "state", "in_rotation", "lag_s")


@router.get("/healthz", summary="Liveness and database check (details for staff)")
async def healthz(pool: PoolDep, pools: PoolsDep, staff: Annotated[bool, Depends(is_staff)]) -> JSONResponse:
    """200 when PostGIS answers, 503 when it does not; staff also see versions and the reason.

    With read replicas, ``replicas`` lists each one's state (``streaming`` ones serve public
    reads; ``lagging``, ``down`` or ``not a standby`` ones are out of rotation) and replay lag.
    A replica's trouble never makes the platform unhealthy: reads fall back to the primary.
    """
    replicas = [r if staff else {k: r[k] for k in PUBLIC_REPLICA_FIELDS} for r in pools.status()]
    extra: dict[str, Any] = {"replicas": replicas} if pools.replicas else {}
    try:
        async with pool.connection(timeout=3) as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(load_sql("health/database"))
            database = await cur.fetchone()
    except Exception as exc:  # any failure to reach the database means "not healthy"
        reason = f"unreachable: {type(exc).__name__}: {exc}".strip() if staff else "unreachable"
        return JSONResponse(status_code=503, content={"status": "unavailable", "database": reason, **extra},
                            headers={"Retry-After": "5"})  # fmt: skip
    return JSONResponse({"status": "ok", "database": database if staff else "ok", **extra})
