"""``/healthz``: is the platform able to serve? (503 when the database is not reachable)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row

from api.deps import PoolDep
from geo.db import load_sql

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database check")
async def healthz(pool: PoolDep) -> JSONResponse:
    """200 with database versions when PostGIS answers, 503 with the reason when it does not."""
    try:
        async with pool.connection(timeout=3) as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(load_sql("health/database"))
            database = await cur.fetchone()
    except Exception as exc:  # any failure to reach the database means "not healthy"
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "database": f"unreachable: {type(exc).__name__}: {exc}".strip()},
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ok", "database": database})
