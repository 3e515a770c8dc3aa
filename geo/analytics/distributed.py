"""The backtest on a Dask cluster: models and rolling origins in parallel, the same metrics as one process.

A run's unit of work is one model variant over a run of consecutive origins that starts with a
refit (:func:`geo.analytics.backtest.trace_chunks`), so a task computes exactly what the
single-process loop computes for those origins. Models that start each fit from the previous one
(``ForecastModel.warm_start``, e.g. the ETAS EM) keep all their origins in one task.

``cluster(scheduler=None, workers=N)`` starts a local cluster of N single-threaded worker processes
(a ``distributed.LocalCluster``); ``cluster(scheduler="tcp://host:8786")`` joins a running one,
whose workers need HueGIS installed (the same ``pip install``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from geo.errors import InvalidInput

if TYPE_CHECKING:
    from distributed import Client

# run(fn, shared, jobs) → [fn(shared, *job) for job in jobs], wherever it computes them.
TaskRunner = Callable[[Callable[..., Any], Any, Sequence[tuple[Any, ...]]], list[Any]]


@contextmanager
def cluster(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client on ``scheduler``, or on a local cluster of ``workers`` processes closed on exit."""
    from distributed import Client, LocalCluster

    check_cluster(scheduler, workers)
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise InvalidInput(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    # Processes, one thread each: the models are numpy/scikit-learn code that holds the GIL in places.
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,  # fmt: skip
        Client(local) as client,
    ):
        yield client


def check_cluster(scheduler: str | None, workers: int | None) -> None:
    """InvalidInput unless exactly one of a scheduler address and a positive number of local workers is given."""
    if scheduler and workers:
        raise InvalidInput("give a scheduler address or a number of local workers, not both")
    if scheduler:
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise InvalidInput(f"scheduler must be an address such as tcp://host:8786, got {scheduler!r}")
    elif workers is None or workers < 1:
        raise InvalidInput(f"a local cluster needs at least 1 worker, got {workers}")


def dask_map(client: Client) -> TaskRunner:
    """``run(fn, shared, jobs)`` → ``[fn(shared, *job) for job in jobs]`` computed on the cluster, in order."""

    def run(fn: Callable[..., Any], shared: Any, jobs: Sequence[tuple[Any, ...]]) -> list[Any]:
        # Every task reads the same data: sent once to each worker rather than with each task.
        [remote] = client.scatter([shared], broadcast=True)
        futures = [client.submit(fn, remote, *job, pure=False) for job in jobs]
        return list(client.gather(futures))

    return run


def local_map(fn: Callable[..., Any], shared: Any, jobs: Sequence[tuple[Any, ...]]) -> list[Any]:
    """The same in this process."""
    return [fn(shared, *job) for job in jobs]
