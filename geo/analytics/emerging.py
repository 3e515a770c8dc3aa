"""Emerging hot spots: Gi* per time slice, a Mann-Kendall trend per cell, and the EHSA categories.

The categories are those of Emerging Hot Spot Analysis (ArcGIS, sfdep); the exact rules this
module applies are in ``docs/hotspots.md`` and in :func:`classify_series`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from geo.analytics.hotspots import gi_star
from geo.errors import InvalidInput

PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating", "historical")
CATEGORIES = (*(f"{p}_hot" for p in PATTERNS), *(f"{p}_cold" for p in PATTERNS), "no_pattern")
PERSISTENT_SHARE = 0.9  # "at least 90 % of the time slices"
MIN_SLICES = 3


@dataclass(frozen=True)
class MannKendall:
    """Mann-Kendall test of a monotonic trend.

    Attributes
    ----------
    s : float
        The S statistic, sum of signs of all later-minus-earlier differences.
    var_s : float
        Variance of S under no trend, corrected for ties.
    z : float
        Normal score of S with the continuity correction.
    p : float
        Two-sided p-value.
    tau : float
        Kendall's tau-a, S over the number of pairs.
    """

    s: float
    var_s: float
    z: float
    p: float
    tau: float


def mann_kendall(series: NDArray[np.float64]) -> MannKendall:
    """Mann-Kendall trend test of one series (in time order), with the tie correction of the variance."""
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1:
        raise InvalidInput(f"the Mann-Kendall series must be one-dimensional, got shape {x.shape}")
    s, var_s, z, p, tau = mann_kendall_rows(x[None, :])
    return MannKendall(s=float(s[0]), var_s=float(var_s[0]), z=float(z[0]), p=float(p[0]), tau=float(tau[0]))


def mann_kendall_rows(matrix: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Mann-Kendall S, Var(S) (tie-corrected), z (continuity-corrected), two-sided p and tau of each row."""
    x = np.asarray(matrix, dtype=np.float64)
    rows, n = x.shape
    if n < MIN_SLICES:
        raise InvalidInput(f"the Mann-Kendall test needs at least {MIN_SLICES} values, got {n}")
    if not np.isfinite(x).all():
        raise InvalidInput("the Mann-Kendall series has missing values")
    upper_i, upper_j = np.triu_indices(n, k=1)
    s = np.sign(x[:, upper_j] - x[:, upper_i]).sum(axis=1)
    # Ties: for each row, the sizes of its groups of equal values.
    ordered = np.sort(x, axis=1)
    starts = np.ones((rows, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(starts, axis=1) - 1
    sizes = np.zeros((rows, n))
    np.add.at(sizes, (np.repeat(np.arange(rows), n), group.ravel()), 1.0)
    tie_term = (sizes * (sizes - 1) * (2 * sizes + 5)).sum(axis=1)
    var_s = (n * (n - 1) * (2 * n + 5) - tie_term) / 18.0
    safe = np.where(var_s > 0, var_s, 1.0)
    z = np.where(var_s > 0, (s - np.sign(s)) / np.sqrt(safe), 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    tau = s / (n * (n - 1) / 2)
    return s, var_s, z, p, tau


def classify_series(
    z: NDArray[np.float64], significant: NDArray[np.bool_], *, alpha: float = 0.05, trend: MannKendall | None = None
) -> str:
    """The EHSA category of one cell from its Gi* z-scores and significance per slice (oldest first).

    Rules, with ``n`` slices, ``final`` the most recent, "hot" meaning significant with z > 0
    and "cold" significant with z < 0, and the trend a Mann-Kendall test of the z-scores at
    ``alpha`` (the cold rules mirror these with hot and cold and the trend's sign swapped):

    1. final hot and hot in at least 90 % of the slices: ``intensifying_hot`` if the trend is
       significantly up, ``diminishing_hot`` if significantly down, else ``persistent_hot``;
    2. final hot and cold in any earlier slice: ``oscillating_hot``;
    3. final hot, never significant before: ``new_hot``;
    4. final hot, the hot slices are one uninterrupted run of at least two ending at the final
       slice: ``consecutive_hot``;
    5. final hot otherwise (hot before, on and off, never cold): ``sporadic_hot``;
    6. final not hot but hot in at least 90 % of the slices: ``historical_hot``;
    7. otherwise ``no_pattern``.
    """
    z = np.asarray(z, dtype=np.float64)
    significant = np.asarray(significant, dtype=bool)
    n = len(z)
    if n < MIN_SLICES or len(significant) != n:
        raise InvalidInput(f"need at least {MIN_SLICES} time slices with one z and one flag each, got {n}")
    hot = significant & (z > 0)
    cold = significant & (z < 0)
    trend = trend or mann_kendall(z)
    trend_up = trend.p < alpha and trend.s > 0
    trend_down = trend.p < alpha and trend.s < 0
    for kind, mine, other, rising, falling in (
        ("hot", hot, cold, trend_up, trend_down),
        ("cold", cold, hot, trend_down, trend_up),
    ):
        share = mine.sum() / n
        if mine[-1]:
            if share >= PERSISTENT_SHARE:
                if rising:
                    return f"intensifying_{kind}"
                if falling:
                    return f"diminishing_{kind}"
                return f"persistent_{kind}"
            earlier_mine, earlier_other = mine[:-1], other[:-1]
            if earlier_other.any():
                return f"oscillating_{kind}"
            if not earlier_mine.any():
                return f"new_{kind}"
            run = _final_run(mine)
            if run >= 2 and mine.sum() == run:
                return f"consecutive_{kind}"
            return f"sporadic_{kind}"
    for kind, mine in (("hot", hot), ("cold", cold)):
        if mine.sum() / n >= PERSISTENT_SHARE:
            return f"historical_{kind}"
    return "no_pattern"


def _final_run(flags: NDArray[np.bool_]) -> int:
    """Length of the run of true flags that ends at the last one."""
    run = 0
    for flag in flags[::-1]:
        if not flag:
            break
        run += 1
    return run


def emerging_hotspots(
    counts: NDArray[np.float64],
    weights,
    *,
    alpha: float = 0.05,
    permutations: int = 0,
    seed: int = 0,
    fdr: bool = True,
) -> pd.DataFrame:
    """Emerging Hot Spot Analysis of a cells × slices count matrix.

    Parameters
    ----------
    counts : ndarray (cells, slices)
        Events per grid cell and time slice, oldest slice first.
    weights : libpysal.weights.W
        Binary neighbours of the cells (Gi* adds the cell itself).
    alpha : float
        Significance of a cell in one slice (two-sided, after the FDR correction when ``fdr``)
        and of the Mann-Kendall trend.
    permutations : int
        Permutations of each slice's Gi*; 0 (default) uses the normal approximation of Gi*, as
        ArcGIS's EHSA does: a permutation p-value (at least 2/(permutations+1)) cannot pass the
        FDR correction of a slice over thousands of cells unless hundreds of them are hot.
    seed : int
        Seed of the permutations.
    fdr : bool
        Benjamini-Hochberg correction of each slice's p-values.

    Returns
    -------
    DataFrame
        Per cell: ``category``, ``trend_tau``, ``trend_z``, ``trend_p``, ``hot_slices``,
        ``cold_slices``, ``final_z`` (the last slice's Gi* z), ``total`` (events in all slices).
        A slice whose cells all have the same count has no significant cell.
    """
    import esda

    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != weights.n:
        raise InvalidInput(f"counts must be cells × slices with {weights.n} cells, got shape {counts.shape}")
    n_cells, n_slices = counts.shape
    if n_slices < MIN_SLICES:
        raise InvalidInput(f"emerging hot spots need at least {MIN_SLICES} time slices, got {n_slices}")
    if not 0 < alpha < 1:
        raise InvalidInput(f"alpha must be between 0 and 1, got {alpha}")
    z = np.zeros((n_cells, n_slices))
    significant = np.zeros((n_cells, n_slices), dtype=bool)
    for t in range(n_slices):
        y = counts[:, t]
        if np.ptp(y) == 0:
            continue
        result = gi_star(y, weights, permutations=permutations, seed=seed + t, fdr=False)
        z[:, t] = result.z
        threshold = esda.fdr(result.p_value, alpha) if fdr else alpha
        significant[:, t] = result.p_value <= threshold
    s, var_s, trend_z, trend_p, tau = mann_kendall_rows(z)
    category = np.full(n_cells, "no_pattern", dtype=object)
    for k in np.nonzero(significant.any(axis=1))[0]:  # never significant: no pattern, whatever the trend
        trend = MannKendall(s=s[k], var_s=var_s[k], z=trend_z[k], p=trend_p[k], tau=tau[k])
        category[k] = classify_series(z[k], significant[k], alpha=alpha, trend=trend)
    frame = pd.DataFrame({"category": category, "trend_tau": tau, "trend_z": trend_z, "trend_p": trend_p})
    frame["hot_slices"] = (significant & (z > 0)).sum(axis=1)
    frame["cold_slices"] = (significant & (z < 0)).sum(axis=1)
    frame["final_z"] = z[:, -1]
    frame["total"] = counts.sum(axis=1)
    return frame
