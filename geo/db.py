"""The database pool (psycopg 3) and the named SQL files under ``geo/sql``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any, overload

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from geo.errors import NotFound
from geo.settings import Settings

Params = Mapping[str, Any] | Sequence[Any] | None

# How long the pool keeps retrying one lost connection (backing off 1, 2, 4 … s) before it
# frees the slot. Giving up is not final: the next request that finds the pool empty starts a
# fresh attempt. A short window therefore bounds how long the app lags behind a database that
# came back (with psycopg_pool's default of 5 minutes the backoff grows to minutes).
RECONNECT_WINDOW_S = 10.0

# TCP keepalives: a database host that vanishes without closing sockets (power, network) is
# noticed within ~30 s instead of the kernel's two hours.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 4}


def create_pool(settings: Settings) -> AsyncConnectionPool:
    """One async pool for the process; opened by the app's lifespan.

    Outages: connecting gives up after ``connect_timeout_s``, a request waits at most as long for
    a connection (then ``PoolTimeout``, a 503), broken connections are discarded when handed out,
    and lost ones are re-established in the background, so the app recovers by itself.
    ``statement_timeout`` bounds heavy queries so a request cannot hang a worker.
    """
    # Times are shown in Huế's zone (+07:00), as CAP feeds and citizens expect.
    options = f"-c statement_timeout={settings.statement_timeout_ms} -c timezone=Asia/Ho_Chi_Minh"
    conninfo = settings.conninfo(options=options, **KEEPALIVES)
    return AsyncConnectionPool(
        conninfo,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.connect_timeout_s,
        reconnect_timeout=RECONNECT_WINDOW_S,
        open=False,
        # Reads need no transaction; writes open one with conn.transaction(), which then commits
        # before the handler returns (not after the response, as a yield dependency would).
        kwargs={"autocommit": True},
        # A broken connection (server restarted) is dropped when it is handed out, not reused.
        check=AsyncConnectionPool.check_connection,
    )


@cache
def load_sql(name: str) -> str:
    """The text of ``geo/sql/<name>.sql`` (e.g. ``load_sql("admin/unit_at_point")``)."""
    return resources.files("geo").joinpath("sql", f"{name}.sql").read_text()


# A cursor whose rows are dicts (``row_factory=dict_row``), as the service functions use.
DictCursor = AsyncCursor[dict[str, Any]]


@overload
async def fetch_one(conn: AsyncConnection, name: str, params: Params = None, *, missing: str) -> dict[str, Any]: ...
@overload
async def fetch_one(conn: AsyncConnection, name: str, params: Params = None) -> dict[str, Any] | None: ...
async def fetch_one(
    conn: AsyncConnection, name: str, params: Params = None, *, missing: str | None = None
) -> dict[str, Any] | None:
    """The first row of the named query as a dict; ``NotFound(missing)`` when there is none and
    ``missing`` is given, else None."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql(name), params)
        row = await cur.fetchone()
    if row is None and missing is not None:
        raise NotFound(missing)
    return row


async def fetch_all(conn: AsyncConnection, name: str, params: Params = None) -> list[dict[str, Any]]:
    """Every row of the named query (``geo/sql/<name>.sql``) as dicts."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql(name), params)
        return await cur.fetchall()
