"""Forecasts of events per grid cell for the next period: a gradient-boosting model and the usual baselines.

Every model answers one question: given the events of periods ``0 … s-1``, how many events do we
expect in each cell in period ``s``? Baselines (the ones hot-spot forecasting papers compare with):

* ``last_period``: the count of period ``s-1``;
* ``last_n``: the mean count of the last N periods;
* ``long_run_mean``: the mean count of every period so far;
* ``kde``: a Gaussian kernel density of the events of the last few periods, integrated over each
  cell and scaled to events per period.

The model, ``gbm``, is a Poisson gradient-boosting regressor (scikit-learn's histogram GBM) on
features known before ``s``: the cell's lagged counts and means over short, medium and long
windows, exponentially decayed counts (near-repeat excitation with half-lives of 1, 4 and 16
periods), the same period a season earlier, the counts of the neighbouring rings, the kernel
density of recent events, time since the cell's last event, the cell's category mix, the city's
level, and the calendar (month, week of year or day of week, days in the period).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geo.analytics.events import EventSet
from geo.analytics.grid import HexGrid, Period, PeriodAxis, complete_axis, count_matrix
from geo.errors import InvalidInput


@dataclass(frozen=True)
class Horizons:
    """Window lengths, in periods, for one period length."""

    short: int
    mid: int
    long: int
    season: int
    last_n: int
    kde_window: int
    train: int
    min_warmup: int
    origins: int
    refit_every: int
    max_history: int


HORIZONS: dict[str, Horizons] = {
    "day": Horizons(
        short=7,
        mid=28,
        long=182,
        season=7,
        last_n=28,
        kde_window=28,
        train=56,
        min_warmup=28,
        origins=56,
        refit_every=14,
        max_history=730,
    ),
    "week": Horizons(
        short=4,
        mid=13,
        long=52,
        season=52,
        last_n=8,
        kde_window=8,
        train=52,
        min_warmup=12,
        origins=52,
        refit_every=4,
        max_history=260,
    ),
    "month": Horizons(
        short=3,
        mid=6,
        long=12,
        season=12,
        last_n=3,
        kde_window=3,
        train=24,
        min_warmup=6,
        origins=12,
        refit_every=3,
        max_history=120,
    ),
}
DECAY_HALF_LIVES = (1.0, 4.0, 16.0)
# Near-repeat triggering is looked for within this many cell edges: the fitted spread sits at its floor
# (half an edge) on the real data sets of docs/hotspots.md, so 2 edges hold 4 of its deviations.
ETAS_REACH_CELLS = 2.0
TOP_CATEGORIES = 6


@dataclass(eq=False)
class SpaceTime:
    """Events on a grid and a period axis: the input of every forecast model.

    Attributes
    ----------
    grid : HexGrid
        Cells (metric CRS).
    axis : PeriodAxis
        Complete periods, oldest first.
    counts : ndarray (cells, periods)
        Events per cell and period.
    cell, period : ndarray of int
        Each kept event's cell and period (events outside the grid or the axis are dropped).
    xy : ndarray (events, 2)
        Kept events in metres.
    t : ndarray
        Kept events' local times in days since the start of period 0.
    category : ndarray of int
        Index into ``categories`` of each kept event.
    """

    grid: HexGrid
    axis: PeriodAxis
    counts: NDArray[np.float64]
    cell: NDArray[np.int64]
    period: NDArray[np.int64]
    xy: NDArray[np.float64]
    category: NDArray[np.int64]
    categories: list[str]
    t: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_cells(self) -> int:
        return self.counts.shape[0]

    @property
    def n_periods(self) -> int:
        return self.counts.shape[1]

    @property
    def cumulative(self) -> NDArray[np.float64]:
        """Cumulative counts ``(cells, periods + 1)``: column ``s`` sums periods ``0 … s-1``."""
        if "cumulative" not in self._cache:
            cum = np.zeros((self.n_cells, self.n_periods + 1))
            np.cumsum(self.counts, axis=1, out=cum[:, 1:])
            self._cache["cumulative"] = cum
        return self._cache["cumulative"]

    def ring(self, k: int) -> sp.csr_matrix:
        """Adjacency to the cells exactly ``k`` rings away (k = 1, 2)."""
        key = f"ring{k}"
        if key not in self._cache:
            inner = self.grid.adjacency(k - 1, self_loops=True) if k > 1 else sp.identity(self.n_cells, format="csr")
            outer = self.grid.adjacency(k, self_loops=True)
            self._cache[key] = ((outer - inner) > 0).astype(np.float64).tocsr()
        return self._cache[key]

    @property
    def tree(self) -> cKDTree:
        if "tree" not in self._cache:
            self._cache["tree"] = cKDTree(self.grid.centres)
        return self._cache["tree"]

    def day_of(self, k: int) -> float:
        """Start of period ``k`` in days since the start of period 0 (``k = n``: the end of the last)."""
        return (self.axis.start_of(k) - self.axis.start_of(0)) / pd.Timedelta(days=1)

    def smoother(self, bandwidth_m: float) -> sp.csr_matrix:
        """Gaussian kernel from cell to cell: column j spreads one event of cell j over the cells (sums to 1).

        The kernel's variance adds the spread of a point within its hexagon (cell_m²·5/12 per axis), so a
        small bandwidth keeps the mass in the cell; ``bandwidth_m = 0`` is the identity.
        """
        key = f"smoother{bandwidth_m:.3f}"
        if key not in self._cache:
            self._cache[key] = kernel_matrix(self.grid.centres, self.tree, bandwidth_m, self.grid.cell_m)
        return self._cache[key]

    def decayed(self, s: int, half_life: float) -> tuple[NDArray[np.float64], float]:
        """Counts of the periods before ``s`` weighted by 2^(-age/half_life) (inf: unweighted) and the weights' sum."""
        key = f"decayed{half_life}:{s}"
        if key not in self._cache:
            if math.isinf(half_life):
                self._cache[key] = (self.cumulative[:, s].copy(), float(s))
            else:
                weights = 2.0 ** (-np.arange(s - 1, -1, -1) / half_life)
                self._cache[key] = (self.counts[:, :s] @ weights, float(weights.sum()))
            if len(self._cache) > 4096:  # keep memory bounded on long runs: drop the oldest decayed sums
                for old in [k for k in self._cache if k.startswith("decayed")][:1024]:
                    del self._cache[old]
        return self._cache[key]

    def events_in(self, start: int, stop: int) -> NDArray[np.int64]:
        """Indices of the events of periods ``start … stop-1``."""
        order = self._cache.get("order")
        if order is None:
            order = np.argsort(self.period, kind="stable")
            self._cache["order"] = order
            self._cache["sorted_period"] = self.period[order]
        lo, hi = np.searchsorted(self._cache["sorted_period"], [max(start, 0), max(stop, 0)])
        return order[lo:hi]

    def window_mean(self, s: int, length: int) -> NDArray[np.float64]:
        """Mean count per period over the ``length`` periods before ``s`` (NaN when there are none)."""
        start = max(0, s - length)
        if s - start <= 0:
            return np.full(self.n_cells, np.nan)
        cum = self.cumulative
        return (cum[:, s] - cum[:, start]) / (s - start)

    def kde(self, s: int, window: int, bandwidth_m: float) -> NDArray[np.float64]:
        """Expected events per cell in a period: Gaussian KDE of the events of the ``window`` periods before ``s``.

        The density (events per m², bandwidth in metres) is evaluated at each cell centre, times
        the cell's area, over the number of periods in the window.
        """
        start = max(0, s - window)
        out = np.zeros(self.n_cells)
        if s - start <= 0:
            return out
        events = self.events_in(start, s)
        if len(events) == 0:
            return out
        reach = 3.0 * bandwidth_m
        neighbours = self.tree.query_ball_point(self.xy[events], r=reach)
        lengths = np.fromiter((len(n) for n in neighbours), dtype=np.int64, count=len(neighbours))
        if lengths.sum() == 0:
            return out
        cells = np.concatenate([np.asarray(n, dtype=np.int64) for n in neighbours if n])
        which = np.repeat(np.arange(len(events)), lengths)
        d2 = ((self.grid.centres[cells] - self.xy[events][which]) ** 2).sum(axis=1)
        density = np.exp(-d2 / (2 * bandwidth_m**2)) / (2 * math.pi * bandwidth_m**2)
        np.add.at(out, cells, density)
        return out * self.grid.cell_area_m2 / (s - start)


def kernel_matrix(centres: NDArray[np.float64], tree: cKDTree, bandwidth_m: float, cell_m: float) -> sp.csr_matrix:
    """Sparse Gaussian weights between cell centres within 3 σ, each column normalised to 1 (see ``smoother``)."""
    n = len(centres)
    if bandwidth_m <= 0:
        return sp.identity(n, format="csr")
    sigma2 = bandwidth_m**2 + cell_m**2 * 5.0 / 12.0
    pairs = tree.sparse_distance_matrix(tree, 3.0 * math.sqrt(sigma2), output_type="coo_matrix")
    weights = np.exp(-(pairs.data**2) / (2.0 * sigma2))
    matrix = sp.coo_matrix((weights, (pairs.row, pairs.col)), shape=(n, n)).tocsr()
    matrix = matrix + sp.identity(n, format="csr")  # the cell itself (distance 0 is not stored)
    column = np.asarray(matrix.sum(axis=0)).ravel()
    return (matrix @ sp.diags(1.0 / column)).tocsr()


def build_space_time(events: EventSet, grid: HexGrid, period: Period, *, max_periods: int | None = None) -> SpaceTime:
    """Count ``events`` per cell of ``grid`` and complete period (weeks start on Monday in the events' zone)."""
    axis, period_index = complete_axis(events.times, period, events.tz, max_periods=max_periods)
    cell = grid.cell_of(events.x, events.y)
    keep = (cell >= 0) & (period_index >= 0)
    codes, categories = _codes(events.category[keep])
    counts = count_matrix(cell[keep], period_index[keep], grid.n, axis.n)
    local = events.times[keep].tz_convert(events.tz).tz_localize(None)
    days = np.asarray((local - axis.starts[0]) / pd.Timedelta(days=1), dtype=np.float64) if axis.n else np.zeros(0)
    return SpaceTime(
        grid=grid,
        axis=axis,
        counts=counts,
        cell=cell[keep],
        period=period_index[keep],
        xy=np.column_stack([events.x[keep], events.y[keep]]),
        category=codes,
        categories=categories,
        t=days,
    )


def _codes(values: NDArray[np.object_]) -> tuple[NDArray[np.int64], list[str]]:
    categories, codes = np.unique(values.astype(str), return_inverse=True)
    return codes.astype(np.int64), [str(c) for c in categories]


# --- models ------------------------------------------------------------------------------


class ForecastModel(ABC):
    """Expected events per cell in period ``s`` from periods ``0 … s-1``."""

    name: str = ""
    baseline: bool = True
    description: str = ""
    params: dict[str, Any] = {}  # noqa: RUF012 - hyper-parameters, set per instance by the tunable models
    refit_factor: int = 1  # the backtest refits it every refit_factor × the period's refit interval
    warm_start: bool = False  # a fit starts from the previous one: the backtest keeps its origins in one task

    def fit(self, data: SpaceTime, until: int) -> None:  # noqa: B027 - baselines learn nothing
        """Learn from periods before ``until`` (baselines: nothing to learn)."""

    @abstractmethod
    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        """Expected events per cell in period ``s`` (≥ 0), from periods before ``s`` only."""


class LastPeriod(ForecastModel):
    name = "last_period"
    description = "the count of the previous period"

    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        return data.counts[:, s - 1].copy()


class LastN(ForecastModel):
    def __init__(self, n: int) -> None:
        self.n = n
        self.name = "last_n"
        self.description = f"the mean count of the last {n} periods"

    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        return np.nan_to_num(data.window_mean(s, self.n))


class LongRunMean(ForecastModel):
    name = "long_run_mean"
    description = "the mean count of every period so far"

    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        return np.nan_to_num(data.window_mean(s, s))


class KernelDensity(ForecastModel):
    def __init__(self, window: int, bandwidth_m: float) -> None:
        self.window = window
        self.bandwidth_m = bandwidth_m
        self.name = "kde"
        self.description = f"Gaussian kernel density (bandwidth {bandwidth_m:.0f} m) of the last {window} periods"

    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        return data.kde(s, self.window, self.bandwidth_m)


class LongRunKernel(ForecastModel):
    """The mean count per period of all history, smoothed over neighbouring cells by a Gaussian kernel."""

    baseline = False

    def __init__(self, bandwidth_m: float) -> None:
        self.bandwidth_m = bandwidth_m
        self.name = "kde_long"
        self.params = {"bandwidth_m": round(bandwidth_m, 1)}
        self.description = f"long-run mean of every period so far, Gaussian kernel of {bandwidth_m:.0f} m over cells"

    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        return data.smoother(self.bandwidth_m) @ np.nan_to_num(data.window_mean(s, s))


class EmpiricalBayes(ForecastModel):
    """Each cell's recency-weighted rate shrunk towards its neighbourhood's (a Poisson-gamma posterior mean).

    With ``n`` the cell's counts weighted by 2^(-age/half_life), ``T`` the sum of the weights and ``m``
    the neighbourhood's rate per period (the weighted rates smoothed by a kernel of ``bandwidth_m``), the
    forecast is ``(n + κ·m) / (T + κ)``: a cell with little history borrows from its surroundings, one
    with a long record keeps its own rate. ``κ`` is the prior's weight in periods.
    """

    baseline = False

    def __init__(self, half_life: float, kappa: float, bandwidth_m: float) -> None:
        self.half_life, self.kappa, self.bandwidth_m = half_life, kappa, bandwidth_m
        self.name = "eb"
        self.params = {"half_life": half_life if math.isfinite(half_life) else None, "kappa": kappa,
                       "bandwidth_m": round(bandwidth_m, 1)}  # fmt: skip
        life = "no decay" if math.isinf(half_life) else f"half-life {half_life:g} periods"
        self.description = (
            f"empirical Bayes: cell rate ({life}) shrunk towards its {bandwidth_m:.0f} m neighbourhood, "
            f"prior weight {kappa:g} periods"
        )

    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        weighted, total = data.decayed(s, self.half_life)
        if total <= 0:
            return np.zeros(data.n_cells)
        prior = data.smoother(self.bandwidth_m) @ (weighted / total)
        return (weighted + self.kappa * prior) / (total + self.kappa)


class SelfExciting(ForecastModel):
    """ETAS/Hawkes process (background per cell plus near-repeat triggering) fitted by EM: :mod:`geo.analytics.etas`."""

    baseline = False
    warm_start = True  # each EM starts from the last fit's parameters

    def __init__(self, horizons: Horizons, cell_m: float, background_m: float) -> None:
        self.h = horizons
        self.cell_m = cell_m
        self.background_m = background_m
        self.name = "etas"
        self.params = {"background_m": round(background_m, 1)}
        self.description = (
            f"self-exciting point process fitted by EM: background per cell (smoothed {background_m:.0f} m) "
            "plus near-repeat triggering exponential in time, Gaussian in space"
        )
        self.fitted: Any = None

    def _window(self, data: SpaceTime) -> float:
        """Longest triggering delay considered: 8 weeks for days and weeks, 4 months for months, in days."""
        return 120.0 if data.axis.period == "month" else 56.0

    def fit(self, data: SpaceTime, until: int) -> None:
        from geo.analytics.etas import fit_etas

        end = data.day_of(until)
        start = data.day_of(max(0, until - self.h.long))
        self.fitted = fit_etas(data.t, data.xy, data.cell, start=start, end=end, n_cells=data.n_cells,
                               smoother=data.smoother(self.background_m), cell_m=self.cell_m,
                               reach_m=ETAS_REACH_CELLS * self.cell_m, window=self._window(data),
                               initial=self.fitted)  # fmt: skip

    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        from geo.analytics.etas import forecast_etas

        if self.fitted is None:
            raise RuntimeError("fit the model before predicting")
        return forecast_etas(self.fitted, data.t, data.xy, start=data.day_of(s), end=data.day_of(s + 1),
                             centres=data.grid.centres, tree=data.tree, cell_m=self.cell_m,
                             window=self._window(data))  # fmt: skip


class GradientBoosting(ForecastModel):
    """Poisson histogram gradient boosting on lagged, neighbourhood, self-exciting, seasonal and category features."""

    name = "gbm"
    baseline = False
    refit_factor = 3  # a fit costs about as much as every other model's whole backtest: 12 weeks apart
    description = (
        "Poisson gradient boosting on lagged counts of the cell and its neighbours, decayed near-repeat "
        "counts, kernel density, seasonality and category mix"
    )

    def __init__(
        self, horizons: Horizons, bandwidth_m: float, *, seed: int = 0, max_iter: int = 150, max_rows: int = 80_000
    ) -> None:
        self.h = horizons
        self.bandwidth_m = bandwidth_m
        self.seed = seed
        self.max_iter = max_iter
        self.max_rows = max_rows
        self.model: Any = None
        self._blank: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self.top: list[int] = []
        self._features: dict[int, NDArray[np.float32]] = {}

    # Features of period s for every cell, from periods before s only.
    def features(self, data: SpaceTime, s: int) -> NDArray[np.float32]:
        cached = self._features.get(s)
        if cached is not None:
            return cached
        h, y, n = self.h, data.counts, data.n_cells
        nan = np.full(n, np.nan)
        lag = [y[:, s - k] if s - k >= 0 else nan for k in (1, 2, 3)]
        season = y[:, s - h.season] if s - h.season >= 0 else nan
        short, mid, long = (data.window_mean(s, w) for w in (h.short, h.mid, h.long))
        history = data.window_mean(s, s)
        decayed = [self._decayed(y, s, half_life) for half_life in DECAY_HALF_LIVES]
        kde = data.kde(s, h.kde_window, self.bandwidth_m)
        ring1, ring2 = data.ring(1), data.ring(2)
        zero = np.nan_to_num
        neighbours = [
            ring1 @ zero(lag[0]),
            ring1 @ zero(short),
            ring1 @ zero(long),
            ring1 @ decayed[1],
            ring2 @ zero(long),
            ring2 @ zero(short),
        ]
        since = self._since_last(y, s, h.long)
        mix = self._category_mix(data, s)
        totals = y.sum(axis=0)
        city = [
            totals[s - 1] / n if s >= 1 else np.nan,
            totals[max(0, s - h.short) : s].mean() / n if s >= 1 else np.nan,
            totals[s - h.season] / n if s - h.season >= 0 else np.nan,
        ]
        start = data.axis.start_of(s)
        end = data.axis.end_of(s)
        calendar = [
            start.month,
            start.isocalendar().week if data.axis.period == "week" else start.day_of_week,
            (end - start).days,
        ]
        columns = [
            *lag,
            season,
            short,
            mid,
            long,
            history,
            *decayed,
            kde,
            *neighbours,
            since,
            *mix.T,
            *(np.full(n, v, dtype=float) for v in city),
            *(np.full(n, v, dtype=float) for v in calendar),
        ]
        out = np.column_stack(columns).astype(np.float32)
        self._features[s] = out
        return out

    @staticmethod
    def _decayed(y: NDArray[np.float64], s: int, half_life: float) -> NDArray[np.float64]:
        """Σ count(u)·2^(-(s-1-u)/half_life) over earlier periods u (truncated at 8 half-lives)."""
        length = min(s, int(8 * half_life) + 1)
        if length <= 0:
            return np.zeros(y.shape[0])
        weights = 2.0 ** (-np.arange(length - 1, -1, -1) / half_life)
        return y[:, s - length : s] @ weights

    @staticmethod
    def _since_last(y: NDArray[np.float64], s: int, horizon: int) -> NDArray[np.float64]:
        """Periods since the cell's last event (``horizon`` when none within it)."""
        length = min(s, horizon)
        if length <= 0:
            return np.full(y.shape[0], float(horizon))
        recent = y[:, s - length : s][:, ::-1] > 0
        return np.where(recent.any(axis=1), recent.argmax(axis=1), horizon).astype(float)

    def _category_mix(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        """Share of each top category among the cell's events over the long window (NaN: no events)."""
        k = len(self.top)
        out = np.full((data.n_cells, TOP_CATEGORIES), np.nan)
        if k == 0:
            return out
        events = data.events_in(s - self.h.long, s)
        lookup = np.full(len(data.categories), -1, dtype=np.int64)
        lookup[self.top] = np.arange(k)
        cat = lookup[data.category[events]]
        cells = data.cell[events]
        total = np.bincount(cells, minlength=data.n_cells).astype(float)
        mine = cat >= 0
        per = np.bincount(cells[mine] * k + cat[mine], minlength=data.n_cells * k).reshape(data.n_cells, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, :k] = np.where(total[:, None] > 0, per / total[:, None], np.nan)
        return out

    def fit(self, data: SpaceTime, until: int) -> None:
        from sklearn.ensemble import HistGradientBoostingRegressor

        rng = np.random.default_rng(self.seed + until)
        past = data.events_in(0, until)
        frequency = np.bincount(data.category[past], minlength=len(data.categories))
        top = [int(c) for c in np.argsort(-frequency, kind="stable")[:TOP_CATEGORIES] if frequency[c] > 0]
        if top != self.top:
            self.top = top
            self._features.clear()
        targets = [s for s in range(max(1, until - self.h.train), until)]
        if not targets:
            raise InvalidInput("the model needs at least one past period to learn from")
        # Most cell-periods hold no event: keep every row with an event and a weighted sample of the
        # others (the weights keep the Poisson likelihood unbiased), so a fit stays fast on big grids.
        per_target = data.n_cells * len(targets)
        positives = int((data.counts[:, targets] > 0).sum())
        zero_share = min(1.0, max(0.0, (self.max_rows - positives) / max(1, per_target - positives)))
        xs, ys, ws = [], [], []
        for s in targets:
            y = data.counts[:, s]
            keep = (y > 0) | (rng.random(data.n_cells) < zero_share)
            xs.append(self.features(data, s)[keep])
            ys.append(y[keep])
            ws.append(np.where(y[keep] > 0, 1.0, 1.0 / max(zero_share, 1e-9)))
        model = HistGradientBoostingRegressor(
            loss="poisson",
            learning_rate=0.08,
            max_iter=self.max_iter,
            max_leaf_nodes=31,
            min_samples_leaf=40,
            l2_regularization=1.0,
            max_bins=128,
            early_stopping=False,
            random_state=self.seed,
        )
        x = np.vstack(xs)
        # A feature missing everywhere (no season a year back yet, fewer categories than slots) carries no
        # information and trips the binning: it is set to 0 in training and in prediction alike.
        self._blank = np.asarray(np.isnan(x).all(axis=0), dtype=bool)
        x[:, self._blank] = 0.0
        with one_thread():
            model.fit(x, np.concatenate(ys), sample_weight=np.concatenate(ws))
        self.model = model

    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        if self.model is None:
            raise RuntimeError("fit the model before predicting")
        x = self.features(data, s).copy()
        x[:, self._blank] = 0.0
        with one_thread():
            return np.maximum(self.model.predict(x), 0.0)

    def release(self) -> None:
        """Drop cached features (memory)."""
        self._features.clear()


def one_thread() -> Any:
    """Context limiting OpenMP to one thread: on a busy machine scikit-learn's threads wait on each other.

    Measured on the shared 2-core machine (Toronto, 150k rows): a fit took 204 s with OpenMP's default
    threads and 24 s with one.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def default_bandwidth(cell_m: float) -> float:
    """Kernel bandwidth in metres for a grid of hexagons of edge ``cell_m``: the centre-to-centre spacing."""
    return math.sqrt(3.0) * cell_m


class Blend(ForecastModel):
    """A mixture of other models' forecasts: each model's share of the total per cell, mixed with fitted weights.

    Weights maximise the multinomial likelihood of where the events of the validation origins fell
    (EM for mixture weights), so the blend learns which models to trust without looking at later data.
    """

    name = "blend"
    baseline = False

    def __init__(self, components: list[ForecastModel], weights: NDArray[np.float64]) -> None:
        self.components = components
        self.weights = np.asarray(weights, dtype=np.float64)
        self.params = {m.name: round(float(w), 4) for m, w in zip(components, self.weights, strict=True)}
        mix = ", ".join(f"{m.name} {w:.2f}" for m, w in zip(components, self.weights, strict=True) if w >= 0.005)
        self.description = f"stacked blend of the models' spatial shares, weights fitted on validation origins: {mix}"

    def fit(self, data: SpaceTime, until: int) -> None:
        for model, weight in zip(self.components, self.weights, strict=True):
            if weight > 0:
                model.fit(data, until)

    def predict(self, data: SpaceTime, s: int) -> NDArray[np.float64]:
        forecasts = [m.predict(data, s) if w > 0 else np.zeros(data.n_cells)
                     for m, w in zip(self.components, self.weights, strict=True)]  # fmt: skip
        return mix(forecasts, self.weights)


def shares(forecast: NDArray[np.float64]) -> NDArray[np.float64]:
    """A forecast as each cell's share of the total (uniform when the forecast is all zero)."""
    total = forecast.sum()
    return forecast / total if total > 0 else np.full(len(forecast), 1.0 / len(forecast))


def mix(forecasts: list[NDArray[Any]], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weighted mixture of the forecasts' shares, scaled to the weighted mean of their totals."""
    out = np.zeros(len(forecasts[0]))
    total = 0.0
    for forecast, weight in zip(forecasts, weights, strict=True):
        if weight > 0:
            f = np.asarray(forecast, dtype=np.float64)
            out += weight * shares(f)
            total += weight * float(f.sum())
    return out * total


def blend_weights(forecasts: list[list[NDArray[Any]]], actuals: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Mixture weights (summing to 1) maximising Σ events · log(Σ_m w_m share_m) over the origins (EM).

    ``forecasts[m][k]`` is model m's forecast for origin k and ``actuals[k]`` the counts there.
    """
    m = len(forecasts)
    columns = []
    for k, actual in enumerate(actuals):
        hit = actual > 0
        if hit.any():
            # A tiny uniform floor: a model that gave a cell zero must not make the likelihood -inf.
            columns.append(
                (
                    np.vstack([0.999 * shares(np.asarray(f[k], float))[hit] for f in forecasts]) + 0.001 / len(actual),
                    actual[hit],
                )
            )
    if not columns:
        return np.full(m, 1.0 / m)
    p = np.hstack([c[0] for c in columns])
    y = np.concatenate([c[1] for c in columns])
    weights = np.full(m, 1.0 / m)
    for _ in range(500):
        mixture = weights @ p
        updated = (weights[:, None] * p / mixture * y).sum(axis=1) / y.sum()
        if np.abs(updated - weights).max() < 1e-6:
            weights = updated
            break
        weights = updated
    return weights


@dataclass
class Family:
    """A kind of model and its candidate hyper-parameters (one variant for the baselines)."""

    name: str
    baseline: bool
    variants: list[ForecastModel]


def model_families(
    period: Period, cell_m: float, *, seed: int = 0, bandwidth_m: float | None = None, gbm: bool = True
) -> list[Family]:
    """Every model with its hyper-parameter grid: four naive baselines, then the models chosen among on validation.

    Bandwidths are multiples of the centre spacing d = √3·cell_m; half-lives fractions of the long window.
    """
    h = HORIZONS[period]
    d = bandwidth_m or default_bandwidth(cell_m)
    families = [
        Family("last_period", True, [LastPeriod()]),
        Family("last_n", True, [LastN(h.last_n)]),
        Family("long_run_mean", True, [LongRunMean()]),
        Family("kde", True, [KernelDensity(h.kde_window, d)]),
        Family("kde_long", False, [LongRunKernel(k * d) for k in (0.5, 1.0, 2.0, 4.0)]),
        Family(
            "eb",
            False,
            [EmpiricalBayes(life, kappa, 2.0 * d) for life in (h.long / 4, h.long, math.inf) for kappa in (4.0, 16.0)],
        ),
        Family("etas", False, [SelfExciting(h, cell_m, b) for b in (0.0, d)]),
    ]
    if gbm:
        families.append(Family("gbm", False, [GradientBoosting(h, d, seed=seed)]))
    return families


def forecast_next(data: SpaceTime, model: ForecastModel) -> NDArray[np.float64]:
    """Expected events per cell in the period after the last complete one (trained on all of them)."""
    # Features of period n need counts up to n-1 only: extend the matrix by an empty column.
    extended = SpaceTime(
        grid=data.grid,
        axis=data.axis,
        counts=np.column_stack([data.counts, np.zeros(data.n_cells)]),
        cell=data.cell,
        period=data.period,
        xy=data.xy,
        category=data.category,
        categories=data.categories,
        t=data.t,
        _cache={k: v for k, v in data._cache.items() if k.startswith(("ring", "tree", "smoother"))},
    )
    model.fit(extended, data.n_periods)
    return model.predict(extended, data.n_periods)
