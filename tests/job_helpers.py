"""Run one background job as the app's leader runs it (geo/jobs.py), in a job group of its own:
the suite's server leads the default group, with the jobs off."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable

from geo.jobs import JobGroup


async def first_run(conninfo: str, name: str, work: Callable[[], Awaitable[object]], *,
                    timeout_s: float = 30.0) -> tuple[int, int]:  # fmt: skip
    """``work`` as job ``name`` every 0.2 s until its first run (or failure); its (runs, failures)."""
    group = JobGroup(conninfo, name=f"{name}-test-{os.getpid()}", retry_s=0.2)
    group.add(name, 0.2, work)
    task = asyncio.create_task(group.run())
    job = group.jobs[name]
    for _ in range(int(timeout_s / 0.1)):
        if job.runs or job.failures:
            break
        await asyncio.sleep(0.1)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return job.runs, job.failures
