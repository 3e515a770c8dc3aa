"""Rolling-origin backtest of the hot-spot forecasts: hit rate, PAI, PEI and count errors per model.

For each origin ``s`` (the last ``origins`` complete periods) every model forecasts period ``s``
from periods ``0 … s-1`` only; the real model is refitted every ``refit_every`` origins. For a
flagged-area fraction ``f`` the ``k = round(f·N)`` cells with the highest forecast are flagged
(ties at the threshold share the remaining slots: the expected result of a random tie-break).

* hit rate = events in flagged cells / all events (pooled over origins);
* PAI (Predictive Accuracy Index, Chainey et al. 2008) = hit rate / (flagged area / total area);
* PEI (Predictive Efficiency Index, Hunt 2016) = hits / the most events any ``k`` cells held,
  i.e. the achieved PAI over the best possible PAI for that area;
* count errors per cell and period: MAE, RMSE and bias of the total (Σ forecast / Σ events − 1).

The chosen model is the one with the highest PAI at the primary fraction (5 %); the report says
by how much it beats the best baseline, in how many origins it does, and a bootstrap interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.analytics.events import EventSet, describe
from geo.analytics.forecast import HORIZONS, ForecastModel, GradientBoosting, SpaceTime, build_space_time, make_models
from geo.analytics.grid import build_grid, check_period
from geo.errors import InvalidInput

FRACTIONS = (0.01, 0.05, 0.10, 0.20)
PRIMARY_FRACTION = 0.05
CURVE_FRACTIONS = tuple(np.round(np.linspace(0.005, 0.5, 100), 4))
MIN_ORIGINS = 4
MIN_CELLS = 10
BOOTSTRAP = 1000


def flagged_hits(forecast: NDArray[np.float64], actual: NDArray[np.float64], k: int) -> tuple[float, float]:
    """Expected events in the ``k`` cells with the highest forecast (random tie-break) and the most any ``k`` held."""
    hits, best = hits_at(forecast, actual, np.array([k]))
    return float(hits[0]), float(best[0])


def hits_at(
    forecast: NDArray[np.float64], actual: NDArray[np.float64], ks: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """For each ``k`` in ``ks``: expected events in the top-``k`` forecast cells and the most any ``k`` cells held.

    Cells tied with the ``k``-th forecast share the remaining slots in proportion (the mean over
    random tie-breaks), so a forecast with many equal values is neither favoured nor penalised.
    """
    n = len(forecast)
    ks = np.clip(np.asarray(ks, dtype=np.int64), 0, n)
    order = np.argsort(-forecast, kind="stable")
    f, a = forecast[order], actual[order]
    cum = np.concatenate([[0.0], np.cumsum(a)])
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = f[1:] != f[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    bounds = np.concatenate([np.nonzero(new_group)[0], [n]])
    group_end = bounds[np.searchsorted(bounds, np.arange(n), side="right")]
    last = np.maximum(ks - 1, 0)
    g0, g1 = group_start[last], group_end[last]
    group_sum = cum[g1] - cum[g0]
    hits = cum[g0] + (ks - g0) * group_sum / (g1 - g0)
    hits = np.where(ks > 0, hits, 0.0)
    best_cum = np.concatenate([[0.0], np.cumsum(np.sort(actual)[::-1])])
    return hits, best_cum[ks]


@dataclass
class ModelScore:
    """One model's backtest metrics."""

    name: str
    baseline: bool
    description: str
    hits: dict[float, float] = field(default_factory=dict)
    best: dict[float, float] = field(default_factory=dict)
    curve_hits: NDArray[np.float64] = field(default_factory=lambda: np.zeros(len(CURVE_FRACTIONS)))
    abs_error: float = 0.0
    sq_error: float = 0.0
    forecast_total: float = 0.0

    def metrics(self, events: float, cells_flagged: dict[float, int], n_cells: int) -> dict[str, dict[str, float]]:
        out = {}
        for f, k in cells_flagged.items():
            hit_rate = self.hits[f] / events if events else math.nan
            out[fraction_label(f)] = {
                "cells": k,
                "hit_rate": hit_rate,
                "pai": hit_rate / (k / n_cells) if events else math.nan,
                "pei": self.hits[f] / self.best[f] if self.best[f] else math.nan,
            }
        return out


def fraction_label(f: float) -> str:
    """0.05 → '5%'."""
    return f"{f * 100:g}%"


@dataclass
class BacktestReport:
    """What the backtest measured (``to_dict`` for JSON, ``table`` for people)."""

    study: dict[str, Any]
    settings: dict[str, Any]
    models: list[dict[str, Any]]
    chosen: str
    best_baseline: str
    margin: dict[str, Any]
    per_origin: pd.DataFrame
    curves: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as None)."""
        return _clean(
            {
                "study": self.study,
                "settings": self.settings,
                "models": self.models,
                "chosen": self.chosen,
                "best_baseline": self.best_baseline,
                "margin": self.margin,
            }
        )

    def model(self, name: str) -> dict[str, Any]:
        return next(m for m in self.models if m["name"] == name)

    def pai(self, name: str, fraction: float = PRIMARY_FRACTION) -> float:
        return float(self.model(name)["metrics"][fraction_label(fraction)]["pai"])

    def table(self) -> str:
        """The metrics table with a header and a verdict line."""
        fractions = self.settings["fractions"]
        head = f"{'model':15} {'kind':9}" + "".join(f" | {fraction_label(f):>4} hit   PAI   PEI" for f in fractions)
        head += " |   MAE   RMSE   bias"
        lines = [head, "-" * len(head)]
        for m in self.models:
            row = f"{m['name']:15} {'baseline' if m['baseline'] else 'model':9}"
            for f in fractions:
                v = m["metrics"][fraction_label(f)]
                row += f" | {v['hit_rate'] * 100:7.1f}% {v['pai']:5.2f} {v['pei']:5.2f}"
            row += f" | {m['mae']:5.3f} {m['rmse']:6.3f} {m['bias'] * 100:+5.1f}%"
            lines.append(row + ("  <- chosen" if m["name"] == self.chosen else ""))
        s, st, mg = self.settings, self.study, self.margin
        lines.insert(
            0,
            f"{st['events_in_grid']:,} events, {st['cells']:,} hexagons of {s['cell_m']:g} m "
            f"({st['area_km2']:,.1f} km², {st['crs']}, study area: {st['study_area']}), "
            f"{st['periods']} complete {s['period']}s {st['first_period']} … {st['last_period']}; "
            f"{s['origins']} rolling origins {s['first_origin']} … {s['last_origin']}",
        )
        lines.insert(1, "")
        lines.append("")
        lines.append(
            f"chosen: {self.chosen} (highest PAI at {fraction_label(s['primary_fraction'])}): "
            f"PAI {mg['chosen_pai']:.2f} "
            f"vs {mg['best_baseline_pai']:.2f} for the best baseline ({self.best_baseline}), "
            f"{mg['percent']:+.1f}% (bootstrap 90% interval {mg['ci90_percent'][0]:+.1f}% … "
            f"{mg['ci90_percent'][1]:+.1f}%); better in {mg['origins_better']} of {s['origins']} origins"
        )
        return "\n".join(lines)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    return value


def run_backtest(
    events: EventSet,
    *,
    period: str = "week",
    cell_m: float = 250.0,
    origins: int | None = None,
    fractions: Sequence[float] = FRACTIONS,
    seed: int = 0,
    refit_every: int | None = None,
    max_iter: int = 200,
    bandwidth_m: float | None = None,
) -> BacktestReport:
    """Rolling-origin backtest of every forecast model on ``events`` over a hexagonal grid of their study area.

    Parameters
    ----------
    events : EventSet
        Events in a metric CRS with their study area (:func:`geo.analytics.events.place_events`).
    period : {'day', 'week', 'month'}
        Forecast period (cut in the events' time zone; weeks start on Monday).
    cell_m : float
        Hexagon edge in metres (> 0); a cell covers 2.598·cell_m² m².
    origins : int, optional
        Number of rolling origins, the most recent complete periods (default: 56 days, 52 weeks
        or 12 months, fewer when the data is shorter).
    fractions : sequence of float
        Flagged-area fractions (0 < f < 1); 0.05 is always included (it chooses the model).
    seed : int
        Seed of the model and the bootstrap.
    refit_every : int, optional
        Refit the real model every this many origins (default: 14 days, 4 weeks or 3 months).
    max_iter : int
        Boosting iterations of the real model.
    bandwidth_m : float, optional
        Kernel bandwidth of the KDE baseline and feature in metres (default √3·cell_m).

    Returns
    -------
    BacktestReport
        Metrics per model and fraction, the chosen model and its margin over the best baseline.
    """
    p = check_period(period)
    if not (isinstance(cell_m, int | float) and math.isfinite(cell_m) and cell_m > 0):
        raise InvalidInput(f"cell size must be a positive number of metres, got {cell_m}")
    fractions = sorted({float(f) for f in fractions} | {PRIMARY_FRACTION})
    if any(not 0 < f < 1 for f in fractions):
        raise InvalidInput(f"flagged-area fractions must be between 0 and 1, got {fractions}")
    if origins is not None and origins < MIN_ORIGINS:
        raise InvalidInput(f"origins must be at least {MIN_ORIGINS}, got {origins}")
    if bandwidth_m is not None and not bandwidth_m > 0:
        raise InvalidInput(f"bandwidth must be a positive number of metres, got {bandwidth_m}")
    h = HORIZONS[p]
    grid = build_grid(events.area, cell_m, events.epsg)
    if grid.n < MIN_CELLS:
        raise InvalidInput(
            f"the study area ({events.area.area / 1e6:.3f} km²) holds only {grid.n} hexagons of "
            f"{cell_m:g} m; use smaller cells (at least {MIN_CELLS} are needed)"
        )
    data = build_space_time(events, grid, p, max_periods=h.max_history)
    available = data.n_periods - h.min_warmup
    if available < MIN_ORIGINS:
        raise InvalidInput(
            f"a backtest by {p} needs at least {h.min_warmup + MIN_ORIGINS} complete {p}s of data; "
            f"these events cover {data.n_periods} complete {p}s"
        )
    n_origins = min(origins or h.origins, available)
    models = make_models(p, cell_m, seed=seed, bandwidth_m=bandwidth_m, max_iter=max_iter)
    return _evaluate(
        data,
        models,
        events=events,
        origins=n_origins,
        fractions=fractions,
        seed=seed,
        refit_every=refit_every or h.refit_every,
        cell_m=cell_m,
    )


def _evaluate(
    data: SpaceTime,
    models: list[ForecastModel],
    *,
    events: EventSet,
    origins: int,
    fractions: list[float],
    seed: int,
    refit_every: int,
    cell_m: float,
) -> BacktestReport:
    n = data.n_cells
    flagged = {f: max(1, round(f * n)) for f in fractions}
    curve_k = [max(1, round(f * n)) for f in CURVE_FRACTIONS]
    scores = [ModelScore(m.name, m.baseline, m.description) for m in models]
    for score in scores:
        score.hits = dict.fromkeys(fractions, 0.0)
        score.best = dict.fromkeys(fractions, 0.0)
    first = data.n_periods - origins
    rows = []
    events_total = 0.0
    for step, s in enumerate(range(first, data.n_periods)):
        actual = data.counts[:, s]
        events_total += actual.sum()
        for model, score in zip(models, scores, strict=True):
            if step % refit_every == 0:
                model.fit(data, s)
            forecast = model.predict(data, s)
            hits, best = hits_at(forecast, actual, np.array([*flagged.values(), *curve_k]))
            for m, (f, _) in enumerate(flagged.items()):
                score.hits[f] += hits[m]
                score.best[f] += best[m]
                rows.append((data.axis.label(s), model.name, f, hits[m], best[m], actual.sum()))
            score.curve_hits += hits[len(flagged) :]
            error = forecast - actual
            score.abs_error += float(np.abs(error).sum())
            score.sq_error += float((error**2).sum())
            score.forecast_total += float(forecast.sum())
    for model in models:
        if isinstance(model, GradientBoosting):
            model.release()
    per_origin = pd.DataFrame(rows, columns=["origin", "model", "fraction", "hits", "best", "events"])
    cells_periods = n * origins
    reported: list[dict[str, Any]] = []
    for score in scores:
        reported.append(
            {
                "name": score.name,
                "baseline": score.baseline,
                "description": score.description,
                "metrics": score.metrics(events_total, flagged, n),
                "mae": score.abs_error / cells_periods,
                "rmse": math.sqrt(score.sq_error / cells_periods),
                "bias": score.forecast_total / events_total - 1 if events_total else math.nan,
            }
        )
    curves = pd.DataFrame(
        [
            (s.name, f, h / events_total if events_total else math.nan)
            for s in scores
            for f, h in zip(CURVE_FRACTIONS, s.curve_hits, strict=True)
        ],
        columns=["model", "fraction", "hit_rate"],
    )
    curves["pai"] = curves["hit_rate"] / curves["fraction"]
    label = fraction_label(PRIMARY_FRACTION)
    ranked = sorted(reported, key=lambda m: -(m["metrics"][label]["pai"] if events_total else 0))
    chosen = str(ranked[0]["name"])
    baselines = [m for m in ranked if m["baseline"] and m["name"] != chosen]
    best_baseline = str(baselines[0]["name"])
    margin = _margin(per_origin, chosen, best_baseline, events_total, flagged[PRIMARY_FRACTION], n, seed)
    axis = data.axis
    study = {
        **describe(events),
        "cells": n,
        "cell_area_km2": data.grid.cell_area_m2 / 1e6,
        "periods": axis.n,
        "first_period": axis.label(0),
        "last_period": axis.label(axis.n - 1),
        "events_in_grid": int(data.counts.sum()),
        "events_backtested": int(events_total),
        "area_km2": round(n * data.grid.cell_area_m2 / 1e6, 3),
    }
    settings = {
        "period": axis.period,
        "cell_m": cell_m,
        "origins": origins,
        "first_origin": axis.label(first),
        "last_origin": axis.label(axis.n - 1),
        "refit_every": refit_every,
        "fractions": fractions,
        "primary_fraction": PRIMARY_FRACTION,
        "seed": seed,
    }
    return BacktestReport(
        study=study,
        settings=settings,
        models=reported,
        chosen=chosen,
        best_baseline=best_baseline,
        margin=margin,
        per_origin=per_origin,
        curves=curves,
    )


def _margin(
    per_origin: pd.DataFrame, chosen: str, baseline: str, events: float, k: int, n: int, seed: int
) -> dict[str, Any]:
    """PAI of the chosen model over the best baseline's at the primary fraction, per origin and bootstrapped."""
    at = per_origin[per_origin["fraction"] == PRIMARY_FRACTION]
    a = at[at["model"] == chosen].set_index("origin")
    b = at[at["model"] == baseline].set_index("origin")
    area = k / n
    pai_a = a["hits"].sum() / events / area if events else math.nan
    pai_b = b["hits"].sum() / events / area if events else math.nan
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(a), size=(BOOTSTRAP, len(a)))
    ha, hb = a["hits"].to_numpy()[picks].sum(axis=1), b["hits"].to_numpy()[picks].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(hb > 0, ha / hb, np.nan)
    low, high = np.nanpercentile(ratios, [5, 95]) if np.isfinite(ratios).any() else (math.nan, math.nan)
    return {
        "fraction": PRIMARY_FRACTION,
        "chosen_pai": pai_a,
        "best_baseline_pai": pai_b,
        "ratio": pai_a / pai_b if pai_b else math.nan,
        "percent": (pai_a / pai_b - 1) * 100 if pai_b else math.nan,
        "ci90_percent": [(low - 1) * 100, (high - 1) * 100],
        "origins_better": int((a["hits"] > b["hits"].reindex(a.index)).sum()),
        "origins_tied": int((a["hits"] == b["hits"].reindex(a.index)).sum()),
    }
