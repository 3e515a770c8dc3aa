"""Typed dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.consistency import read_after
from geo.auth import Principal, Unauthenticated, accounts
from geo.auth.policy import require
from geo.auth.tokens import read_token
from geo.db import Pools
from geo.settings import Settings


def get_pool(request: Request) -> AsyncConnectionPool:
    """The primary's pool."""
    return request.app.state.pool


def get_pools(request: Request) -> Pools:
    """The primary and its read replicas."""
    return request.app.state.pools


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_conn(pool: Annotated[AsyncConnectionPool, Depends(get_pool)]) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for one request (committed on success, rolled back on error)."""
    async with pool.connection() as conn:
        yield conn


def public_base(request: Request) -> str:
    """The base of the links written into documents: HUEGIS_PUBLIC_URL, or the request's own base when its
    Host is in HUEGIS_ALLOWED_HOSTS; never an arbitrary Host header (cached documents would carry it)."""
    settings: Settings = request.app.state.settings
    host = request.headers.get("host", "").lower()
    if host and host in {allowed.lower() for allowed in settings.allowed_hosts}:
        return str(request.base_url).rstrip("/")
    return settings.public_url.rstrip("/")


async def get_read_conn(
    request: Request, pools: Annotated[Pools, Depends(get_pools)]
) -> AsyncIterator[AsyncConnection]:
    """A connection for a public read: a replica in rotation that has replayed the client's last
    write (``api.consistency``), else the primary."""
    async with pools.read(after=read_after(request)) as conn:
        yield conn


PoolDep = Annotated[AsyncConnectionPool, Depends(get_pool)]
PoolsDep = Annotated[Pools, Depends(get_pools)]
# ConnDep: the primary (writes, staff reads). ReadConnDep: public reads, from a replica when one is in rotation.
ConnDep = Annotated[AsyncConnection, Depends(get_conn)]
ReadConnDep = Annotated[AsyncConnection, Depends(get_read_conn)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

# Swagger's "Authorize" button signs in through the password flow at tokenUrl.
_oauth2 = OAuth2PasswordBearer(
    tokenUrl="/api/auth/token",
    auto_error=False,
    scheme_name="staff",
    description="Staff account: username and password (`huegis users add`); the token lasts HUEGIS_ACCESS_TOKEN_TTL_S",
)
_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="machine",
    description="Machine client key (`huegis keys add NAME --role hotline_system|open311_client`)",
)
SIGN_IN = "sign in at POST /api/auth/token and send 'Authorization: Bearer <token>' (machines: 'X-API-Key: <key>')"


def unauthorized(detail: str) -> HTTPException:
    """401 with the challenge OAuth2 clients expect."""
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(conn: AsyncConnection, settings: Settings, token: str | None, key: str | None) -> Principal:
    """The staff member a bearer token stands for, or the machine client an API key does; 401 otherwise.

    The account or key is read on every request (one indexed query): a disabled account or a
    revoked key is refused at once, and a password or role change ends earlier tokens at once.
    """
    try:
        if token:
            return await accounts.principal_for_user(conn, read_token(token, settings=settings))
        if key:
            return await accounts.principal_for_key(conn, key)
    except Unauthenticated as exc:
        raise unauthorized(f"{exc}; {SIGN_IN}") from None
    raise unauthorized(f"staff endpoint: {SIGN_IN}")


async def get_principal(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_oauth2)],
    key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The caller of a staff route: already authenticated before its body was read (api.limits.AuthFirst)."""
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    return await authenticate(conn, settings, token, key)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def requires(permission: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the principal, if its role holds ``permission`` (403 naming it otherwise)."""

    async def check(principal: PrincipalDep) -> Principal:
        require(principal, permission)
        return principal

    check.__name__ = f"requires_{permission.replace('.', '_')}"
    return check
