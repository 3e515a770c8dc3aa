"""The forecast models and the nested backtest: ETAS recovers a known process, the blend and empirical Bayes behave,
and nothing in the scored weeks influences what is chosen."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from test_backtest import moving_hotspots_csv

from geo.analytics.backtest import backtest_space_time, run_backtest, windows_for
from geo.analytics.etas import fit_etas, forecast_etas
from geo.analytics.events import EventSet, place_events, read_events_csv
from geo.analytics.forecast import (
    EmpiricalBayes,
    Family,
    ForecastModel,
    blend_weights,
    build_space_time,
    forecast_next,
    model_families,
)
from geo.analytics.grid import build_grid
from geo.errors import InvalidInput


def simulate_hawkes(rng: np.random.Generator, *, days: float, mu: float, theta: float, omega: float,
                    sigma: float, side: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A Hawkes process on a square by branching: uniform background, offspring exponential in time, Gaussian."""
    n = rng.poisson(mu * days)
    t = list(rng.uniform(0, days, n))
    xy = list(rng.uniform(0, side, (n, 2)))
    queue = list(range(n))
    while queue:
        parent = queue.pop()
        for _ in range(rng.poisson(theta)):
            child_t = t[parent] + rng.exponential(1 / omega)
            child_xy = xy[parent] + rng.normal(0, sigma, 2)
            if child_t < days and (child_xy >= 0).all() and (child_xy < side).all():
                t.append(child_t)
                xy.append(child_xy)
                queue.append(len(t) - 1)
    return np.asarray(t), np.asarray(xy)


def test_etas_recovers_a_known_self_exciting_process() -> None:
    rng = np.random.default_rng(4)
    t, xy = simulate_hawkes(rng, days=730, mu=6.0, theta=0.4, omega=1 / 4, sigma=150.0, side=10_000)
    grid = build_grid(shapely.box(0, 0, 10_000, 10_000), 200, 32616)
    cell = grid.cell_of(xy[:, 0], xy[:, 1])
    keep = cell >= 0
    fit = fit_etas(t[keep], xy[keep], cell[keep], start=0, end=730, n_cells=grid.n, smoother=sp.identity(grid.n),
                   cell_m=200, reach_m=1000, window=60)  # fmt: skip
    assert fit.theta == pytest.approx(0.4, abs=0.08)
    assert 1 / fit.omega == pytest.approx(4.0, rel=0.3)
    assert fit.sigma_m == pytest.approx(150, rel=0.3)
    assert fit.background.sum() == pytest.approx(6.0, rel=0.15), "background events per day"
    # The forecast of the next day: the background plus the offspring still due from recent events.
    from scipy.spatial import cKDTree

    ahead = forecast_etas(fit, t[keep], xy[keep], start=730, end=731, centres=grid.centres,
                          tree=cKDTree(grid.centres), cell_m=200, window=60)  # fmt: skip
    recent = ((t > 720) & keep).sum()
    assert fit.background.sum() < ahead.sum() < fit.background.sum() + 0.4 * recent


def test_blend_weights_favour_the_model_the_events_follow() -> None:
    rng = np.random.default_rng(1)
    good, bad = rng.gamma(0.5, 1, 500), rng.gamma(0.5, 1, 500)
    actuals = [rng.poisson(good) * 1.0 for _ in range(20)]
    weights = blend_weights([[good] * 20, [bad] * 20], actuals)
    assert weights.sum() == pytest.approx(1.0) and weights[0] > 0.9


def test_empirical_bayes_borrows_from_the_neighbourhood(tmp_path: Path) -> None:
    path = tmp_path / "city.csv"
    moving_hotspots_csv(path, weeks=24)
    events = place_events(read_events_csv(path))
    data = build_space_time(events, build_grid(events.area, 250, events.epsg), "week")
    s = data.n_periods - 1
    raw = np.nan_to_num(data.window_mean(s, s))
    shrunk = EmpiricalBayes(math.inf, 8.0, 866.0).predict(data, s)
    own = EmpiricalBayes(math.inf, 1e-9, 866.0).predict(data, s)
    np.testing.assert_allclose(own, raw, atol=1e-6)
    empty = raw == 0
    assert (shrunk[empty] > 0).any(), "a cell without history borrows its neighbours' rate"
    assert shrunk.sum() == pytest.approx(raw.sum(), rel=0.05)
    assert np.abs(shrunk - shrunk.mean()).sum() < np.abs(raw - raw.mean()).sum(), "shrinkage pulls to the mean"


class Oracle(ForecastModel):
    """Knows the scored weeks' counts exactly and says nothing useful before them."""

    name = "oracle"
    baseline = False
    description = "perfect on the scored origins, noise on the validation ones"

    def __init__(self, first_scored: int) -> None:
        self.first_scored = first_scored

    def predict(self, data, s):  # type: ignore[no-untyped-def]
        if s >= self.first_scored:
            return data.counts[:, s].copy()
        return np.random.default_rng(s).random(data.n_cells)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> EventSet:
    path = tmp_path_factory.mktemp("moving") / "city.csv"
    moving_hotspots_csv(path, weeks=40)
    return place_events(read_events_csv(path))


def test_a_model_perfect_on_the_scored_weeks_only_is_never_chosen(city: EventSet) -> None:
    data = build_space_time(city, build_grid(city.area, 250, city.epsg), "week")
    windows = windows_for(data.n_periods, "week", 8, 8)
    scored = windows.first + windows.validation
    families = [*model_families("week", 250, gbm=False), Family("oracle", False, [Oracle(scored)])]
    report = backtest_space_time(data, families, windows=windows, refit_every=4)
    assert report.pai("oracle") == max(m["metrics"]["5%"]["pai"] for m in report.models), "it is perfect there"
    assert report.chosen != "oracle", report.table()
    assert report.model("oracle")["validation_pai"] < report.model(report.chosen)["validation_pai"]
    assert report.publish["model"] == "oracle", "the published model is chosen on the most recent window"


def test_nothing_in_the_scored_weeks_changes_the_choice(city: EventSet) -> None:
    """Scramble every event of the scored weeks: the choice, hyper-parameters and validation scores stay the same."""
    first = run_backtest(city, period="week", cell_m=250, origins=6, validation=8, gbm=False)
    scored_from = pd.Timestamp(first.settings["first_origin"], tz="UTC")
    late = np.asarray(city.times >= scored_from)
    raw = city.raw
    assert raw is not None
    rng = np.random.default_rng(9)
    moved = raw.subset(np.ones(len(raw), dtype=bool))
    in_raw = np.asarray(raw.times >= scored_from)
    moved.lon = np.where(in_raw, rng.uniform(raw.lon.min(), raw.lon.max(), len(raw)), raw.lon)
    moved.lat = np.where(in_raw, rng.uniform(raw.lat.min(), raw.lat.max(), len(raw)), raw.lat)
    second = run_backtest(place_events(moved), period="week", cell_m=250, origins=6, validation=8, gbm=False)
    assert late.sum() > 500
    assert second.chosen == first.chosen
    assert second.study["study_area"] == first.study["study_area"]
    for a, b in zip(first.models, second.models, strict=True):
        assert (a["name"], a["params"]) == (b["name"], b["params"])
        assert a["validation_pai"] == pytest.approx(b["validation_pai"])
    assert second.pai(first.chosen) != pytest.approx(first.pai(first.chosen)), "the scored weeks did change"


def test_the_published_model_forecasts_the_next_period(city: EventSet) -> None:
    report = run_backtest(city, period="week", cell_m=250, origins=4, validation=4, gbm=False)
    data = build_space_time(city, build_grid(city.area, 250, city.epsg), "week")
    assert report.published_model is not None
    expected = forecast_next(data, report.published_model)
    assert expected.shape == (data.n_cells,) and (expected >= 0).all() and expected.sum() > 0
    assert report.publish["window"].startswith("the last 4 origins")


def test_windows_need_validation_before_the_scored_origins() -> None:
    w = windows_for(200, "week", None, None)
    assert (w.first, w.validation, w.scored) == (96, 52, 52)
    w = windows_for(40, "week", None, None)
    assert w.validation == w.scored == 14 and w.first == 12
    with pytest.raises(InvalidInput, match="at least 4 are needed"):
        windows_for(40, "week", 26, None)
    with pytest.raises(InvalidInput, match="needs at least 20 complete weeks"):
        windows_for(19, "week", None, None)
