"""Typed dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from geo.settings import Settings


def get_pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_conn(pool: Annotated[AsyncConnectionPool, Depends(get_pool)]) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for one request (committed on success, rolled back on error)."""
    async with pool.connection() as conn:
        yield conn


_bearer = HTTPBearer(auto_error=False, description="Staff token (HUEGIS_STAFF_TOKEN)")


def require_staff(
    request: Request,
    settings: Annotated[Settings, Depends(get_app_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The acting staff member; 401 without the staff bearer token.

    A single shared token stands in until accounts and roles exist; the actor name comes from
    the ``X-Actor`` header so the audit trail still says who acted.
    """
    if credentials is None or credentials.credentials != settings.staff_token:
        raise HTTPException(
            status_code=401,
            detail="staff endpoint: send 'Authorization: Bearer <staff token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return request.headers.get("x-actor", "staff").strip()[:100] or "staff"


PoolDep = Annotated[AsyncConnectionPool, Depends(get_pool)]
ConnDep = Annotated[AsyncConnection, Depends(get_conn)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StaffDep = Annotated[str, Depends(require_staff)]
