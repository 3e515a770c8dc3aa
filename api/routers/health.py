"""``/healthz``: is the platform able to serve? (503 when the database is not reachable)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row

from api.deps import PoolDep, PoolsDep
from geo.db import load_sql

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database check")
async def healthz(pool: PoolDep, pools: PoolsDep) -> JSONResponse:
    """200 with database versions when PostGIS answers, 503 with the reason when it does not.

    With read replicas, ``replicas`` lists each one's state (``streaming`` ones serve public
    reads; ``lagging``, ``down`` or ``not a standby`` ones are out of rotation) and replay lag.
    A replica's trouble never makes the platform unhealthy: reads fall back to the primary.
    """
    extra: dict[str, Any] = {"replicas": pools.status()} if pools.replicas else {}
    try:
        async with pool.connection(timeout=3) as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(load_sql("health/database"))
            database = await cur.fetchone()
    except Exception as exc:  # any failure to reach the database means "not healthy"
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "database": f"unreachable: {type(exc).__name__}: {exc}".strip(), **extra},
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ok", "database": database, **extra})
