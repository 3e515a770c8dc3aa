"""The backtest on a Dask LocalCluster: the same report as in one process, and clear refusals of bad cluster options."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from test_backtest import backtest_cli, synthetic_city_csv

from geo.analytics.backtest import run_backtest, trace_chunks
from geo.analytics.distributed import cluster, dask_map
from geo.analytics.events import place_events, read_events_csv
from geo.analytics.forecast import HORIZONS, model_families
from geo.errors import InvalidInput


def same(a: Any, b: Any) -> bool:
    """Equal JSON values, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dask") / "city.csv"
    synthetic_city_csv(path, weeks=34, seed=11)
    return path


def test_local_cluster_backtest_gives_the_single_process_metrics(city: Path) -> None:
    events = place_events(read_events_csv(city, tz="America/Sao_Paulo"))
    options: dict[str, Any] = {"period": "week", "cell_m": 400.0, "origins": 8, "validation": 8, "seed": 5}
    alone = run_backtest(events, **options).to_dict()
    with cluster(workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        spread = run_backtest(events, **options, run=dask_map(client)).to_dict()
    assert alone["chosen"] and alone["publish"]["model"]
    assert same(alone, spread), json.dumps({"alone": alone["models"], "dask": spread["models"]})[:4000]


def test_tasks_begin_with_a_refit_and_warm_started_models_stay_whole() -> None:
    origins = range(40, 56)
    for family in model_families("week", 400.0, seed=0):
        for model in family.variants:
            chunks = trace_chunks(model, origins, refit_every=4)
            assert [s for chunk in chunks for s in chunk] == list(origins)
            every = 4 * model.refit_factor
            if model.warm_start:
                assert chunks == [origins]
            else:
                assert all((chunk.start - origins.start) % every == 0 for chunk in chunks)
    assert HORIZONS["week"].refit_every == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], "--workers"),
        (["--scheduler", "localhost:8786"], "tcp://host:8786"),
        (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "not both"),
        (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler"),
    ],
    ids=["no-workers", "not-an-address", "both", "unreachable"],
)
def test_cli_refuses_bad_cluster_options(city: Path, args: list[str], message: str) -> None:
    result = backtest_cli("--events", str(city), "--cell-m", "400", "--origins", "4", "--no-gbm", *args)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_cluster_options_are_checked_before_starting_anything() -> None:
    with pytest.raises(InvalidInput, match="at least 1 worker"), cluster(workers=0):
        pass
