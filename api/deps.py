"""Typed dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
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


PoolDep = Annotated[AsyncConnectionPool, Depends(get_pool)]
ConnDep = Annotated[AsyncConnection, Depends(get_conn)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
