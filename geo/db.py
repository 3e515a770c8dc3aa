"""The database pools (psycopg 3): the primary and its read replicas; the named SQL files under ``geo/sql``."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, TypeVar, overload

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

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


log = logging.getLogger("huegis.db")
T = TypeVar("T")


def create_pool(settings: Settings, conninfo: str | None = None, *, timeout: float | None = None,
                name: str = "huegis") -> AsyncConnectionPool:  # fmt: skip
    """One async pool for the process; opened by the app's lifespan.

    Outages: connecting gives up after ``connect_timeout_s``, a request waits at most as long for
    a connection (then ``PoolTimeout``, a 503), broken connections are discarded when handed out,
    and lost ones are re-established in the background, so the app recovers by itself.
    ``statement_timeout`` bounds heavy queries so a request cannot hang a worker.
    """
    # Times are shown in Huế's zone (+07:00), as CAP feeds and citizens expect.
    options = f"-c statement_timeout={settings.statement_timeout_ms} -c timezone=Asia/Ho_Chi_Minh"
    extra: dict[str, str | int] = {"options": options, "application_name": name, **KEEPALIVES}
    conninfo = settings.conninfo(**extra) if conninfo is None else make_conninfo(conninfo, **extra)
    return AsyncConnectionPool(
        conninfo,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.connect_timeout_s if timeout is None else timeout,
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


# --- the primary and its read replicas ------------------------------------------------------------

# How long a read waits for a replica's connection before it goes to the primary instead.
REPLICA_WAIT_S = 0.5
# Replica states; only "streaming" replicas are in the read rotation.
STREAMING, LAGGING, DOWN, PROMOTED, UNKNOWN = "streaming", "lagging", "down", "not a standby", "unknown"
PRIMARY = "primary"


def parse_lsn(text: str) -> int:
    """A WAL position such as ``16/B374D848`` as a byte offset."""
    high, _, low = text.strip().partition("/")
    try:
        return (int(high, 16) << 32) + int(low, 16)
    except ValueError:
        raise ValueError(f"not a WAL position (LSN): {text!r}") from None


def format_lsn(position: int) -> str:
    """A byte offset as PostgreSQL writes a WAL position (``16/B374D848``)."""
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


@dataclass
class Replica:
    """A streaming replica: its pool and what the last check found."""

    name: str
    address: str
    pool: AsyncConnectionPool
    state: str = UNKNOWN
    replay_lsn: int | None = None
    lag_s: float | None = None
    lag_bytes: int | None = None
    error: str | None = None
    checked_at: float | None = None  # time.monotonic()

    @property
    def in_rotation(self) -> bool:
        return self.state == STREAMING

    def status(self) -> dict[str, Any]:
        """What /healthz and ``huegis db replica status`` show."""
        return {
            "name": self.name,
            "address": self.address,
            "state": self.state,
            "in_rotation": self.in_rotation,
            "replay_lsn": None if self.replay_lsn is None else format_lsn(self.replay_lsn),
            "lag_s": None if self.lag_s is None else round(self.lag_s, 3),
            "lag_bytes": self.lag_bytes,
            **({"error": self.error} if self.error else {}),
        }


def _address(conninfo: str) -> str:
    params = conninfo_to_dict(conninfo)
    return f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}"


def _replica_failed(exc: BaseException) -> bool:
    """True if the error says the replica is gone (connection lost, shutting down), not the query."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, psycopg.OperationalError) and not isinstance(exc, psycopg.errors.QueryCanceled):
        return exc.sqlstate is None or exc.sqlstate[:2] in ("08", "57")
    return False


# A read a replica could not finish that the primary can: the replica went away, or a recovery
# conflict cancelled the statement (SQLSTATE 40001 on a standby).
RETRY_ON_PRIMARY = (PoolTimeout, psycopg.OperationalError, psycopg.errors.SerializationFailure)


class Pools:
    """The primary's pool (writes, staff reads) and one pool per read replica (public reads).

    Each process checks its replicas every ``replica_check_interval_s`` (:meth:`watch`): a replica
    that cannot be reached, is no longer a standby, or has not replayed the WAL the primary wrote
    ``replica_max_lag_s`` ago is out of the rotation until a later check finds it well again.
    Reads that need a write to be visible (read-your-writes) pass its WAL position as ``after``
    and go only to replicas that have replayed it, else to the primary.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.primary = create_pool(settings)
        self.replicas = [
            Replica(name, _address(url), create_pool(settings, url, timeout=REPLICA_WAIT_S, name="huegis-read"))
            for name, url in settings.replica_conninfos().items()
        ]
        # The primary's WAL end for read-your-writes cookies, on connections of their own: a request
        # still holding a connection of the main pool must never wait on that pool for another.
        self.positions = (
            create_pool(settings.model_copy(update={"pool_min_size": 1, "pool_max_size": 2}), name="huegis-position")
            if self.replicas
            else None
        )
        # (time.monotonic(), the primary's WAL end): how long ago the primary passed a position.
        self._positions: deque[tuple[float, int]] = deque()
        self._turn = itertools.count()

    async def open(self) -> None:
        """Open every pool without waiting: the app starts (and /healthz says why) while a server is down."""
        await self.primary.open(wait=False)
        if self.positions is not None:
            await self.positions.open(wait=False)
        for replica in self.replicas:
            await replica.pool.open(wait=False)

    async def close(self) -> None:
        for replica in self.replicas:
            await replica.pool.close()
        if self.positions is not None:
            await self.positions.close()
        await self.primary.close()

    # -- routing ----------------------------------------------------------------------------

    def write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection to the primary: writes, staff reads, anything that must see the latest commit."""
        return self.primary.connection()

    def pick(self, after: int | None = None) -> Replica | None:
        """A replica in rotation that has replayed ``after`` (round robin), or None: use the primary."""
        ready = [r for r in self.replicas if r.in_rotation and (after is None or (r.replay_lsn or 0) >= after)]
        return ready[next(self._turn) % len(ready)] if ready else None

    @asynccontextmanager
    async def read(self, after: int | None = None) -> AsyncIterator[AsyncConnection]:
        """A connection for a public read: a replica in rotation, else the primary.

        A replica whose connection cannot be had within ``REPLICA_WAIT_S`` is taken out and the
        primary serves; one that fails during the read is taken out and the error goes up (use
        :meth:`run_read` to redo the read on the primary instead).
        """
        replica = self.pick(after)
        if replica is not None:
            try:
                holder = replica.pool.connection()
                conn = await holder.__aenter__()
            except RETRY_ON_PRIMARY as exc:
                self._take_out(replica, exc)
            else:
                try:
                    yield conn
                except BaseException as exc:
                    if _replica_failed(exc):
                        self._take_out(replica, exc)
                    await holder.__aexit__(type(exc), exc, exc.__traceback__)
                    raise
                await holder.__aexit__(None, None, None)
                return
        async with self.primary.connection() as conn:
            yield conn

    async def route(self, work: Callable[[AsyncConnectionPool, str], Awaitable[T]], *, after: int | None = None,
                    missing: type[Exception] | None = None) -> T:  # fmt: skip
        """``work(pool, source)`` with a replica's pool in rotation, redone with the primary's if it fails.

        ``source`` names the server (``primary`` or the replica's name), for per-server memos.
        Reads are safe to repeat. ``missing``: an exception (e.g. NotFound) that may only mean the
        replica has not replayed the row yet: the primary is asked too.
        """
        replica = self.pick(after)
        if replica is not None:
            try:
                return await work(replica.pool, replica.name)
            except RETRY_ON_PRIMARY as exc:
                if isinstance(exc, psycopg.errors.QueryCanceled):
                    raise  # the statement timeout: the primary would take as long
                if _replica_failed(exc):
                    self._take_out(replica, exc)
                log.info("read on %s failed (%s); redone on the primary", replica.name, exc)
            except Exception as exc:
                if missing is None or not isinstance(exc, missing):
                    raise
        return await work(self.primary, PRIMARY)

    async def run_read(self, work: Callable[[AsyncConnection], Awaitable[T]], *, after: int | None = None,
                       missing: type[Exception] | None = None) -> T:  # fmt: skip
        """``work(conn)`` on a replica in rotation, redone on the primary if the replica fails (see :meth:`route`)."""

        async def on(pool: AsyncConnectionPool, source: str) -> T:
            async with pool.connection() as conn:
                return await work(conn)

        return await self.route(on, after=after, missing=missing)

    def _take_out(self, replica: Replica, exc: BaseException) -> None:
        if replica.state != DOWN:
            log.warning("replica %s (%s) out of rotation: %s", replica.name, replica.address, exc)
        replica.state, replica.error = DOWN, f"{type(exc).__name__}: {exc}".strip()

    # -- positions and checks ---------------------------------------------------------------

    async def write_position(self) -> int:
        """The primary's WAL end: every write committed so far is at or before it."""
        async with (self.positions or self.primary).connection() as conn:
            row = await fetch_one(conn, "replicas/primary_position", missing="no WAL position")
        return parse_lsn(row["lsn"])

    async def check(self) -> None:
        """Sample the primary's WAL end, then check every replica's state and lag."""
        now = time.monotonic()
        try:
            async with self.primary.connection(timeout=REPLICA_WAIT_S * 2) as conn:
                row = await fetch_one(conn, "replicas/primary_position", missing="no WAL position")
            self._positions.append((now, parse_lsn(row["lsn"])))
        except (PoolTimeout, psycopg.Error):
            pass  # the primary is down: lag cannot grow while nothing is written; keep the last view
        window = max(60.0, 3 * self.settings.replica_max_lag_s)
        while len(self._positions) > 1 and now - self._positions[1][0] > window:
            self._positions.popleft()
        await asyncio.gather(*(self._check(replica, now) for replica in self.replicas))

    async def _check(self, replica: Replica, now: float) -> None:
        try:
            async with replica.pool.connection(timeout=REPLICA_WAIT_S * 2) as conn:
                row = await fetch_one(conn, "replicas/replica_state", missing="no state")
        except (PoolTimeout, psycopg.Error) as exc:
            self._take_out(replica, exc)
            replica.checked_at, replica.lag_s, replica.lag_bytes = now, None, None
            return
        replica.checked_at, replica.error = now, None
        if not row["standby"] or row["replay_lsn"] is None:
            replica.state, replica.replay_lsn, replica.lag_s, replica.lag_bytes = PROMOTED, None, None, None
            return
        replica.replay_lsn = parse_lsn(row["replay_lsn"])
        replica.lag_s, replica.lag_bytes = self._lag(replica.replay_lsn, now)
        behind = replica.lag_s is None or replica.lag_s > self.settings.replica_max_lag_s
        state = LAGGING if behind else STREAMING
        if state != replica.state:
            log.info("replica %s (%s): %s, lag %s s", replica.name, replica.address, state, replica.lag_s)
        replica.state = state

    def _lag(self, replay: int, now: float) -> tuple[float | None, int | None]:
        """Seconds since the primary first passed ``replay`` (0 when caught up), and bytes behind.

        None when unknown: no sample of the primary yet, or the replica is behind every sample
        and the samples do not yet span the allowed lag.
        """
        if not self._positions:
            return None, None
        latest = self._positions[-1][1]
        if replay >= latest:
            return 0.0, 0
        passed_at = next(t for t, position in self._positions if position > replay)
        if passed_at == self._positions[0][0] and now - passed_at < self.settings.replica_max_lag_s:
            return None, latest - replay  # behind since before the first sample: not known how long
        return now - passed_at, latest - replay

    async def watch(self) -> None:
        """Check the replicas forever, every ``replica_check_interval_s`` (a task of the app)."""
        while True:
            try:
                await self.check()
            except Exception:  # a check must never end the watch
                log.exception("replica check failed")
            await asyncio.sleep(self.settings.replica_check_interval_s)

    def status(self) -> list[dict[str, Any]]:
        """Every replica's last known state."""
        return [replica.status() for replica in self.replicas]
