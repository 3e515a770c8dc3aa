"""The database pool (psycopg 3) and the named SQL files under ``geo/sql``."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from psycopg import AsyncCursor
from psycopg_pool import AsyncConnectionPool

from geo.settings import Settings


def create_pool(settings: Settings) -> AsyncConnectionPool:
    """One async pool for the process; opened by the app's lifespan.

    ``statement_timeout`` bounds heavy queries so a request cannot hang a worker.
    """
    # Times are shown in Huế's zone (+07:00), as CAP feeds and citizens expect.
    options = f"-c statement_timeout={settings.statement_timeout_ms} -c timezone=Asia/Ho_Chi_Minh"
    conninfo = settings.conninfo(options=options)
    return AsyncConnectionPool(
        conninfo,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.connect_timeout_s,
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
