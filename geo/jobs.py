"""Background jobs that run in one process of all those sharing the database (workers, hosts).

Every app process (``huegis serve --workers N``, or several hosts) creates a :class:`JobGroup`
and runs it; the process whose connection holds the group's PostgreSQL advisory lock is the
leader and runs the jobs, each every ``interval_s`` seconds (a one-shot job once, at once). The others try again every
``retry_s``. The lock lives as long as the leader's connection: when that process dies or loses
the database, PostgreSQL releases it and another process takes over at its next try. Nothing to
configure, no table, no clocks to agree on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection

from geo.db import fetch_all, fetch_one

log = logging.getLogger("huegis.jobs")
DEFAULT_GROUP = "huegis-jobs"
DEFAULT_RETRY_S = 5.0


@dataclass
class Job:
    """A periodic job: ``run()`` every ``interval_s`` seconds (the first run one interval after taking the lead)."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[Any]]
    runs: int = 0
    failures: int = 0
    once: bool = False  # run at once when this process takes the lead, then not again


class JobGroup:
    """Jobs run by the one process that holds the group's advisory lock (see the module docstring)."""

    def __init__(self, conninfo: str, *, name: str = DEFAULT_GROUP, retry_s: float = DEFAULT_RETRY_S) -> None:
        self.conninfo = conninfo
        self.name = name
        self.retry_s = retry_s
        self.jobs: dict[str, Job] = {}
        self.leader = False
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def add(self, name: str, interval_s: float, run: Callable[[], Awaitable[Any]]) -> None:
        """Schedule ``run`` every ``interval_s`` seconds in the leader (0 or less: never)."""
        if name in self.jobs:
            raise ValueError(f"a job named {name!r} is already scheduled")
        if interval_s <= 0:
            return
        self.jobs[name] = Job(name, interval_s, run)
        if self.leader:  # added after this process took the lead
            self._start(self.jobs[name])

    def add_once(self, name: str, run: Callable[[], Awaitable[Any]]) -> None:
        """Run ``run`` once in the leader, as soon as it leads: a one-shot singleton job.

        A new leader (the last one died) runs it again: ``run`` must find its own work done and skip it.
        """
        if name in self.jobs:
            raise ValueError(f"a job named {name!r} is already scheduled")
        self.jobs[name] = Job(name, 0.0, run, once=True)
        if self.leader:
            self._start(self.jobs[name])

    async def run(self) -> None:
        """Forever: take the lead when free, run the jobs while holding it, retry when it is lost."""
        while True:
            try:
                async with await AsyncConnection.connect(
                    self.conninfo, autocommit=True, application_name=f"{self.name}:{os.getpid()}"
                ) as conn:
                    while not (await fetch_one(conn, "jobs/take_lead", {"name": self.name}, missing="no answer"))[
                        "leader"
                    ]:
                        await asyncio.sleep(self.retry_s)
                    await self._lead(conn)
            except psycopg.Error as exc:
                if self.leader:
                    log.warning("process %d lost the lead of %s: %s", os.getpid(), self.name, exc)
            finally:
                self._stop()
            await asyncio.sleep(self.retry_s)

    async def _lead(self, conn: AsyncConnection) -> None:
        """Run every job while the lock's connection stays alive (checked every ``retry_s``)."""
        self.leader = True
        log.info("process %d leads %s: %s", os.getpid(), self.name, ", ".join(self.jobs) or "no jobs")
        for job in self.jobs.values():
            self._start(job)
        while True:
            await asyncio.sleep(self.retry_s)
            await conn.execute("SELECT 1")  # raises when the connection (and so the lock) is gone

    def _start(self, job: Job) -> None:
        self._tasks[job.name] = asyncio.create_task(self._repeat(job), name=f"job:{job.name}")

    def _stop(self) -> None:
        self.leader = False
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()

    @staticmethod
    async def _repeat(job: Job) -> None:
        while True:
            await asyncio.sleep(job.interval_s)
            try:
                await job.run()
                job.runs += 1
            except Exception:  # an outage must not end the job; the next run retries
                job.failures += 1
                log.exception("job %s failed", job.name)
            if job.once:
                return

    def status(self) -> dict[str, Any]:
        """This process's view: leader or not, and its jobs."""
        return {
            "group": self.name,
            "leader": self.leader,
            "jobs": {
                j.name: {"interval_s": j.interval_s, "once": j.once, "runs": j.runs, "failures": j.failures}
                for j in self.jobs.values()
            },
        }


async def current_leader(conn: AsyncConnection, name: str = DEFAULT_GROUP) -> list[dict[str, Any]]:
    """The sessions holding the group's lock (one at most): backend pid and ``<group>:<process id>``."""
    return await fetch_all(conn, "jobs/leader", {"name": name})
