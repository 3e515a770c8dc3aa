"""Nested rolling-origin backtest of the hot-spot forecasts: hit rate, PAI, PEI and count errors per model.

Two windows of consecutive origins, the most recent last: **validation** origins, then **scored**
origins. At each origin ``s`` every model forecasts period ``s`` from periods ``0 … s-1`` only
(models that learn are refitted every ``refit_every`` origins; ``gbm``, whose fit costs as much as
all the others' together, every three times that). Everything that is chosen is
chosen on the validation origins alone: each model's hyper-parameters (bandwidths, half-lives,
prior weights), the blend's weights and the model itself (highest PAI at 5 %). The scored
origins then measure that choice: no scored period plays any part in it, and the study area and
the stray filter come from the events before the first validation origin.

For a flagged-area fraction ``f`` the ``k = round(f·N)`` cells with the highest forecast are
flagged (ties at the threshold share the remaining slots: the expected result of a random tie-break).

* hit rate = events in flagged cells / all events (pooled over origins);
* PAI (Predictive Accuracy Index, Chainey et al. 2008) = hit rate / (flagged area / total area);
* PEI (Predictive Efficiency Index, Hunt 2016) = hits / the most events any ``k`` cells held,
  i.e. the achieved PAI over the best possible PAI for that area;
* count errors per cell and period: MAE, RMSE and bias of the total (Σ forecast / Σ events − 1).

The report gives the chosen model's margin over the best of the four naive baselines on the
scored origins (the baseline best in hindsight, which favours the baselines), with a bootstrap
interval over origins. The forecast a run publishes is chosen the same way on the most recent
window of the same length (the scored origins), so it is chosen on as long a window as reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.analytics.distributed import TaskRunner, local_map
from geo.analytics.events import EventSet, describe
from geo.analytics.forecast import (
    HORIZONS,
    Blend,
    Family,
    ForecastModel,
    GradientBoosting,
    SpaceTime,
    blend_weights,
    build_space_time,
    mix,
    model_families,
)
from geo.analytics.grid import build_grid, check_period, complete_axis
from geo.errors import InvalidInput

FRACTIONS = (0.01, 0.05, 0.10, 0.20)
PRIMARY_FRACTION = 0.05
CURVE_FRACTIONS = tuple(np.round(np.linspace(0.005, 0.5, 100), 4))
MIN_ORIGINS = 4
MIN_CELLS = 10
# A variant's origins are cut into at most this many tasks (each begins with a refit) for a cluster to share.
MAX_CHUNKS = 8
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
class Trace:
    """One model's forecasts over the evaluated origins (validation then scored), and what they caught."""

    model: ForecastModel
    forecasts: NDArray[np.float32]  # (cells, origins)
    hits: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))  # (origins, fractions + curve)
    best: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))


@dataclass
class Windows:
    """Positions of the evaluated origins on the period axis."""

    first: int  # first validation origin
    validation: int
    scored: int

    @property
    def total(self) -> int:
        return self.validation + self.scored

    def part(self, which: str) -> slice:
        """Columns of a trace: 'validation' or 'scored'."""
        return slice(0, self.validation) if which == "validation" else slice(self.validation, self.total)


def fraction_label(f: float) -> str:
    """0.05 → '5%'."""
    return f"{f * 100:g}%"


@dataclass
class BacktestReport:
    """What the backtest measured (``to_dict`` for JSON, ``table`` for people) and the model to publish."""

    study: dict[str, Any]
    settings: dict[str, Any]
    models: list[dict[str, Any]]
    chosen: str
    best_baseline: str
    margin: dict[str, Any]
    per_origin: pd.DataFrame
    curves: pd.DataFrame
    publish: dict[str, Any] = field(default_factory=dict)
    published_model: ForecastModel | None = field(default=None, repr=False)

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
                "publish": self.publish,
            }
        )

    def model(self, name: str) -> dict[str, Any]:
        return next(m for m in self.models if m["name"] == name)

    def pai(self, name: str, fraction: float = PRIMARY_FRACTION) -> float:
        """PAI on the scored origins."""
        return float(self.model(name)["metrics"][fraction_label(fraction)]["pai"])

    def table(self) -> str:
        """The metrics table on the scored origins with a header and a verdict line."""
        fractions = self.settings["fractions"]
        head = f"{'model':15} {'kind':9} {'val PAI':>7}" + "".join(
            f" | {fraction_label(f):>4} hit   PAI   PEI" for f in fractions
        )
        head += " |   MAE   RMSE   bias"
        lines = [head, "-" * len(head)]
        for m in self.models:
            row = f"{m['name']:15} {'baseline' if m['baseline'] else 'model':9} {m['validation_pai']:7.2f}"
            for f in fractions:
                v = m["metrics"][fraction_label(f)]
                row += f" | {v['hit_rate'] * 100:7.1f}% {v['pai']:5.2f} {v['pei']:5.2f}"
            row += f" | {m['mae']:5.3f} {m['rmse']:6.3f} {m['bias'] * 100:+5.1f}%"
            lines.append(row + ("  <- chosen on validation" if m["name"] == self.chosen else ""))
        s, st, mg = self.settings, self.study, self.margin
        lines.insert(
            0,
            f"{st['events_in_grid']:,} events, {st['cells']:,} hexagons of {s['cell_m']:g} m "
            f"({st['area_km2']:,.1f} km², {st['crs']}, study area: {st['study_area']}), "
            f"{st['periods']} complete {s['period']}s {st['first_period']} … {st['last_period']}",
        )
        lines.insert(
            1,
            f"validation: {s['validation_origins']} origins {s['first_validation']} … {s['last_validation']} "
            f"(choose hyper-parameters, blend weights, model); scored: {s['origins']} origins "
            f"{s['first_origin']} … {s['last_origin']} (metrics below)",
        )
        lines.insert(2, "")
        lines.append("")
        lines.append(
            f"chosen on validation: {self.chosen} (val PAI at {fraction_label(s['primary_fraction'])} "
            f"{self.model(self.chosen)['validation_pai']:.2f}); on the scored origins PAI {mg['chosen_pai']:.2f} "
            f"vs {mg['best_baseline_pai']:.2f} for the best naive baseline ({self.best_baseline}), "
            f"{mg['percent']:+.1f}% (bootstrap 90% interval {mg['ci90_percent'][0]:+.1f}% … "
            f"{mg['ci90_percent'][1]:+.1f}%); better in {mg['origins_better']} of {s['origins']} origins"
        )
        p = self.publish
        if p:
            lines.append(f"to publish: {p['model']} ({p['description']}), chosen the same way on {p['window']}")
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


def windows_for(n_periods: int, period: str, origins: int | None, validation: int | None) -> Windows:
    """Scored origins (default 56 days, 52 weeks, 12 months) after as many validation origins, fewer on short data."""
    h = HORIZONS[check_period(period)]
    for name, value in (("origins", origins), ("validation", validation)):
        if value is not None and value < MIN_ORIGINS:
            raise InvalidInput(f"{name} must be at least {MIN_ORIGINS}, got {value}")
    available = n_periods - h.min_warmup
    if available < 2 * MIN_ORIGINS:
        raise InvalidInput(
            f"a backtest by {period} needs at least {h.min_warmup + 2 * MIN_ORIGINS} complete {period}s of data "
            f"({MIN_ORIGINS} validation and {MIN_ORIGINS} scored origins after {h.min_warmup} of warm-up); "
            f"these events cover {n_periods} complete {period}s"
        )
    scored = origins if origins is not None else max(min(h.origins, available // 2), MIN_ORIGINS)
    kept = min(validation or h.origins, available - scored)
    if kept < MIN_ORIGINS:
        raise InvalidInput(
            f"{scored} scored origins leave {available - scored} {period}s for validation after the warm-up; "
            f"at least {MIN_ORIGINS} are needed: ask for fewer origins"
        )
    return Windows(first=n_periods - scored - kept, validation=kept, scored=scored)


def run_backtest(
    events: EventSet,
    *,
    period: str = "week",
    cell_m: float = 250.0,
    origins: int | None = None,
    validation: int | None = None,
    fractions: Sequence[float] = FRACTIONS,
    seed: int = 0,
    refit_every: int | None = None,
    bandwidth_m: float | None = None,
    gbm: bool = True,
    run: TaskRunner = local_map,
) -> BacktestReport:
    """Nested rolling-origin backtest of every forecast model on ``events`` over a hexagonal grid of their study area.

    Parameters
    ----------
    events : EventSet
        Events in a metric CRS with their study area (:func:`geo.analytics.events.place_events`).
    period : {'day', 'week', 'month'}
        Forecast period (cut in the events' time zone; weeks start on Monday).
    cell_m : float
        Hexagon edge in metres (> 0); a cell covers 2.598·cell_m² m².
    origins : int, optional
        Scored origins, the most recent complete periods (default: 56 days, 52 weeks or 12 months,
        fewer when the data is shorter).
    validation : int, optional
        Validation origins just before the scored ones, where every choice is made (default: as
        many as scored, fewer when the data is shorter).
    fractions : sequence of float
        Flagged-area fractions (0 < f < 1); 0.05 is always included (it chooses the model).
    seed : int
        Seed of the models and the bootstrap.
    refit_every : int, optional
        Refit the learning models every this many origins (default: 14 days, 4 weeks or 3 months).
    bandwidth_m : float, optional
        Kernel bandwidth of the KDE baseline, and unit of the tuned bandwidths, in metres (default √3·cell_m).
    gbm : bool
        Include the gradient-boosting model (the slowest to fit).
    run : callable
        Computes the models' traces: :func:`~geo.analytics.distributed.local_map` (here) or
        :func:`~geo.analytics.distributed.dask_map` (a Dask cluster); the report is the same.

    Returns
    -------
    BacktestReport
        Metrics per model and fraction on the scored origins, the model chosen on validation, its
        margin over the best naive baseline, and the model to publish.
    """
    p = check_period(period)
    if not (isinstance(cell_m, int | float) and math.isfinite(cell_m) and cell_m > 0):
        raise InvalidInput(f"cell size must be a positive number of metres, got {cell_m}")
    fractions = sorted({float(f) for f in fractions} | {PRIMARY_FRACTION})
    if any(not 0 < f < 1 for f in fractions):
        raise InvalidInput(f"flagged-area fractions must be between 0 and 1, got {fractions}")
    if bandwidth_m is not None and not bandwidth_m > 0:
        raise InvalidInput(f"bandwidth must be a positive number of metres, got {bandwidth_m}")
    h = HORIZONS[p]
    # The study area and the stray filter from the events before the first validation origin only.
    axis, _ = complete_axis(events.times, p, events.tz, max_periods=h.max_history)
    windows = windows_for(axis.n, p, origins, validation)
    cutoff = pd.Timestamp(axis.start_of(windows.first)).tz_localize(
        events.tz, ambiguous=False, nonexistent="shift_forward"
    )
    events = events.refit_area(cutoff)
    grid = build_grid(events.area, cell_m, events.epsg)
    if grid.n < MIN_CELLS:
        raise InvalidInput(
            f"the study area ({events.area.area / 1e6:.3f} km²) holds only {grid.n} hexagons of "
            f"{cell_m:g} m; use smaller cells (at least {MIN_CELLS} are needed)"
        )
    data = build_space_time(events, grid, p, max_periods=h.max_history)
    windows = windows_for(data.n_periods, p, origins, validation)
    families = model_families(p, cell_m, seed=seed, bandwidth_m=bandwidth_m, gbm=gbm)
    report = backtest_space_time(data, families, windows=windows, fractions=fractions, seed=seed,
                                 refit_every=refit_every or h.refit_every, run=run)  # fmt: skip
    axis = data.axis
    report.study = {
        **describe(events),
        "cells": data.n_cells,
        "cell_area_km2": data.grid.cell_area_m2 / 1e6,
        "periods": axis.n,
        "first_period": axis.label(0),
        "last_period": axis.label(axis.n - 1),
        "events_in_grid": int(data.counts.sum()),
        "events_backtested": int(data.counts[:, windows.first + windows.validation :].sum()),
        "area_km2": round(data.n_cells * data.grid.cell_area_m2 / 1e6, 3),
    }
    report.settings["cell_m"] = cell_m
    return report


def backtest_space_time(
    data: SpaceTime,
    families: Sequence[Family],
    *,
    windows: Windows,
    fractions: Sequence[float] = FRACTIONS,
    seed: int = 0,
    refit_every: int = 4,
    run: TaskRunner = local_map,
) -> BacktestReport:
    """Run every variant of every family over the validation and scored origins, choose on validation, score after.

    ``run`` computes the models' traces: here, or on a Dask cluster (:func:`geo.analytics.distributed.dask_map`).
    """
    n = data.n_cells
    fractions = sorted({float(f) for f in fractions} | {PRIMARY_FRACTION})
    flagged = {f: max(1, round(f * n)) for f in fractions}
    ks = np.array([*flagged.values(), *(max(1, round(f * n)) for f in CURVE_FRACTIONS)])
    origins = range(windows.first, windows.first + windows.total)
    actuals = [data.counts[:, s] for s in origins]
    traces = _traces(data, families, origins, refit_every, run)
    for family in families:
        for trace in traces[family.name]:
            _score(trace, actuals, ks)
    primary = list(flagged).index(PRIMARY_FRACTION)
    baseline = {f.name: f.baseline for f in families}

    def select(which: str) -> tuple[dict[str, Trace], str]:
        """Best variant per family, the blend of those and the best of all, on one window's origins."""
        part = windows.part(which)
        tuned = {name: max(ts, key=lambda t: t.hits[part, primary].sum()) for name, ts in traces.items()}
        names = list(tuned)
        weights = blend_weights([[tuned[m].forecasts[:, k] for k in range(part.start, part.stop)] for m in names],
                                actuals[part])  # fmt: skip
        blend = Blend([tuned[m].model for m in names], weights)
        stacked = np.stack([tuned[m].forecasts for m in names])
        forecasts = np.stack([mix(list(stacked[:, :, k]), weights) for k in range(windows.total)], axis=1)
        tuned["blend"] = _score(Trace(blend, forecasts.astype(np.float32)), actuals, ks)
        chosen = max(tuned, key=lambda m: tuned[m].hits[part, primary].sum())
        return tuned, chosen

    tuned, chosen = select("validation")
    scored = windows.part("scored")
    events_scored = float(sum(a.sum() for a in actuals[scored]))
    events_validation = float(sum(a.sum() for a in actuals[windows.part("validation")]))
    reported: list[dict[str, Any]] = []
    rows = []
    labels = [data.axis.label(s) for s in origins]
    for name, trace in tuned.items():
        hits, best = trace.hits[scored], trace.best[scored]
        forecasts = trace.forecasts[:, scored].astype(np.float64)
        actual = np.column_stack(actuals[scored])
        error = forecasts - actual
        val = trace.hits[windows.part("validation"), primary].sum()
        reported.append(
            {
                "name": name,
                "baseline": baseline.get(name, False),
                "description": trace.model.description,
                "params": trace.model.params,
                "validation_pai": val / events_validation / (flagged[PRIMARY_FRACTION] / n)
                if events_validation
                else math.nan,
                "metrics": _metrics(hits.sum(axis=0), best.sum(axis=0), events_scored, flagged, n),
                "mae": float(np.abs(error).mean()),
                "rmse": float(math.sqrt((error**2).mean())),
                "bias": float(forecasts.sum() / events_scored - 1) if events_scored else math.nan,
            }
        )
        for k, s in enumerate(range(scored.start, scored.stop)):
            for m, f in enumerate(flagged):
                rows.append((labels[s], name, f, hits[k, m], best[k, m], float(actuals[s].sum())))
    per_origin = pd.DataFrame(rows, columns=["origin", "model", "fraction", "hits", "best", "events"])
    curve_hits = {name: t.hits[scored, len(flagged) :].sum(axis=0) for name, t in tuned.items()}
    curves = pd.DataFrame(
        [(name, f, h / events_scored if events_scored else math.nan)
         for name, c in curve_hits.items() for f, h in zip(CURVE_FRACTIONS, c, strict=True)],
        columns=["model", "fraction", "hit_rate"],
    )  # fmt: skip
    curves["pai"] = curves["hit_rate"] / curves["fraction"]
    label = fraction_label(PRIMARY_FRACTION)
    baselines = [m for m in reported if m["baseline"]]
    best_baseline = str(max(baselines, key=lambda m: m["metrics"][label]["pai"] or 0)["name"])
    margin = _margin(per_origin, chosen, best_baseline, events_scored, flagged[PRIMARY_FRACTION], n, seed)
    published, publish_choice = select("scored")
    publish_model = published[publish_choice].model
    for trace_list in traces.values():
        for trace in trace_list:
            if isinstance(trace.model, GradientBoosting):
                trace.model.release()
    axis = data.axis
    settings = {
        "period": axis.period,
        "origins": windows.scored,
        "first_origin": labels[scored.start],
        "last_origin": labels[scored.stop - 1],
        "validation_origins": windows.validation,
        "first_validation": labels[0],
        "last_validation": labels[windows.validation - 1],
        "refit_every": refit_every,
        "fractions": fractions,
        "primary_fraction": PRIMARY_FRACTION,
        "selection": "highest pooled PAI at 5 % on the validation origins (hyper-parameters, blend weights, model)",
        "seed": seed,
    }
    publish = {
        "model": publish_choice,
        "description": publish_model.description,
        "params": publish_model.params,
        "window": f"the last {windows.scored} origins {labels[scored.start]} … {labels[scored.stop - 1]}",
    }
    return BacktestReport(study={}, settings=settings, models=reported, chosen=chosen, best_baseline=best_baseline,
                          margin=margin, per_origin=per_origin, curves=curves, publish=publish,
                          published_model=publish_model)  # fmt: skip


def _traces(
    data: SpaceTime, families: Sequence[Family], origins: range, refit_every: int, run: TaskRunner
) -> dict[str, list[Trace]]:
    """Every variant's trace, computed as independent tasks (a variant over a run of origins) by ``run``."""
    chunks = {id(model): trace_chunks(model, origins, refit_every) for f in families for model in f.variants}
    jobs = [(model, chunk, refit_every) for f in families for model in f.variants for chunk in chunks[id(model)]]
    done = iter(run(_trace, data, jobs))
    traces: dict[str, list[Trace]] = {}
    for family in families:
        traces[family.name] = []
        for model in family.variants:
            parts = [next(done) for _ in chunks[id(model)]]
            # The last task's copy of the model holds the state the whole loop would have ended with.
            traces[family.name].append(Trace(parts[-1].model, np.concatenate([p.forecasts for p in parts], axis=1)))
    return traces


def trace_chunks(model: ForecastModel, origins: range, refit_every: int) -> list[range]:
    """Runs of consecutive origins that each begin with a refit (one run for a model warm-started from its last fit)."""
    every = refit_every * model.refit_factor
    if model.warm_start:
        return [origins]
    refits = math.ceil(len(origins) / every)
    size = every * math.ceil(refits / MAX_CHUNKS)
    return [origins[i : i + size] for i in range(0, len(origins), size)]


def _trace(data: SpaceTime, model: ForecastModel, origins: range, refit_every: int) -> Trace:
    """The model's forecast at every origin, refitted every ``refit_every`` (× its refit factor) origins."""
    out = np.empty((data.n_cells, len(origins)), dtype=np.float32)
    every = refit_every * model.refit_factor
    for step, s in enumerate(origins):
        if step % every == 0:
            model.fit(data, s)
        out[:, step] = model.predict(data, s)
    return Trace(model, out)


def _score(trace: Trace, actuals: list[NDArray[np.float64]], ks: NDArray[np.int64]) -> Trace:
    """Hits and best possible hits of the trace at every origin and flagged-cell count."""
    pairs = [hits_at(trace.forecasts[:, k].astype(np.float64), actual, ks) for k, actual in enumerate(actuals)]
    trace.hits = np.array([h for h, _ in pairs])
    trace.best = np.array([b for _, b in pairs])
    return trace


def _metrics(
    hits: NDArray[np.float64], best: NDArray[np.float64], events: float, flagged: dict[float, int], n: int
) -> dict[str, dict[str, float]]:
    out = {}
    for m, (f, k) in enumerate(flagged.items()):
        hit_rate = hits[m] / events if events else math.nan
        out[fraction_label(f)] = {
            "cells": k,
            "hit_rate": hit_rate,
            "pai": hit_rate / (k / n) if events else math.nan,
            "pei": hits[m] / best[m] if best[m] else math.nan,
        }
    return out


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
