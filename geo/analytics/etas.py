"""A self-exciting point process (ETAS/Hawkes) fitted by expectation-maximisation, forecast on the grid.

The intensity of events at place ``x`` and time ``t`` (days) is a background that does not change
in time plus near-repeat triggering by every earlier event (Mohler et al. 2011, JASA 106:100;
Mohler et al. 2015, JASA 110:1399):

    λ(x, t) = μ(x) + Σ_{t_j < t} θ · ω e^{-ω (t - t_j)} · g_σ(x - x_j)

with ``θ`` the expected number of events an event triggers, ``1/ω`` their mean delay and ``g_σ``
a Gaussian of standard deviation ``σ`` metres. The background ``μ`` is constant within a cell: the
expected background events of each cell, smoothed by a Gaussian kernel over the neighbouring cells
(bandwidth ``background_m``; 0 keeps each cell's own). EM alternates the probability that each
event is background or triggered by each earlier event within ``reach_m`` metres and ``window``
days (E-step) with the maximum-likelihood parameters given those probabilities (M-step), as in
Mohler's stochastic declustering. ``σ`` is kept at least half a cell edge: the forecast is per cell,
and a narrower kernel would only re-explain a cell's steady hot corner as self-excitation.

The forecast of a period ``[a, b)`` in a cell is its background rate times ``b - a`` plus, for
every earlier event, ``θ (e^{-ω (a - t_j)} - e^{-ω (b - t_j)})`` times the share of its kernel over
the cell; events inside the period itself are not known yet and do not count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

MAX_ITERATIONS = 60
TOLERANCE = 1e-5


@dataclass(frozen=True)
class EtasFit:
    """Parameters of a fitted process: triggering and the background per cell (events per day)."""

    theta: float
    omega: float  # per day
    sigma_m: float
    background: NDArray[np.float64]  # expected background events per day in each cell
    iterations: int
    events: int


def fit_etas(
    t: NDArray[np.float64],
    xy: NDArray[np.float64],
    cell: NDArray[np.int64],
    *,
    start: float,
    end: float,
    n_cells: int,
    smoother: sp.csr_matrix,
    cell_m: float,
    reach_m: float,
    window: float,
    initial: EtasFit | None = None,
) -> EtasFit:
    """EM estimate of the process from the events of ``[start, end)`` days.

    Parameters
    ----------
    t : ndarray
        Event times in days (any origin), sorted or not.
    xy : ndarray (events, 2)
        Event positions in metres.
    cell : ndarray of int
        Each event's grid cell.
    start, end : float
        The training interval in days.
    smoother : sparse matrix
        Cell-to-cell kernel spreading each cell's background (columns sum to 1).
    cell_m, reach_m : float
        Hexagon edge and the farthest triggering distance considered, metres.
    window : float
        The longest triggering delay considered, days.
    initial : EtasFit, optional
        A fit to start EM from (the previous origin's): same answer to the tolerance, fewer steps.
    """
    keep = (t >= start) & (t < end)
    t, xy, cell = t[keep], xy[keep], cell[keep]
    n = len(t)
    duration = end - start
    if n < 10 or duration <= 0:
        per_day = np.bincount(cell, minlength=n_cells) / max(duration, 1.0)
        return EtasFit(0.0, 1.0, cell_m, smoother @ per_day, 0, n)
    child, lag, d2 = candidate_pairs(t, xy, reach_m, window)
    sigma_min = cell_m / 2.0
    area = 1.5 * math.sqrt(3.0) * cell_m**2
    theta, omega, sigma2 = 0.1, 1.0 / 7.0, max(sigma_min, 100.0) ** 2
    if initial is not None and initial.theta > 0:
        # From the previous origin's triggering (a few weeks of data apart): EM needs fewer steps.
        theta, omega, sigma2 = initial.theta, initial.omega, initial.sigma_m**2
    # Every event's cell starts with background, so no event begins with zero intensity.
    background = smoother @ (np.bincount(cell, minlength=n_cells) * (1.0 - min(theta, 0.9)) / duration)
    # The part of each event's offspring that falls inside the training interval (censoring at the end).
    remaining = end - t
    previous = -np.inf
    iteration = 0
    for iteration in range(1, MAX_ITERATIONS + 1):  # noqa: B007 - reported
        trigger = np.exp(-omega * lag - d2 / (2 * sigma2))
        trigger *= theta * omega / (2 * math.pi * sigma2)
        base = background[cell] / area
        total = base + np.bincount(child, weights=trigger, minlength=n)
        p_trigger = trigger / total[child]
        p_background = base / total
        likelihood = float(np.log(total).sum() - background.sum() * duration - theta * n)
        offspring = float(p_trigger.sum())
        expected = (1.0 - np.exp(-omega * remaining)).sum()
        theta = float(min(offspring / max(expected, 1e-9), 0.95))
        if offspring > 0:
            omega = float(offspring / max(float(p_trigger @ lag), 1e-9))
            sigma2 = float(max(float(p_trigger @ d2) / (2.0 * offspring), sigma_min**2))
        background = smoother @ (np.bincount(cell, weights=p_background, minlength=n_cells) / duration)
        if abs(likelihood - previous) < TOLERANCE * max(1.0, abs(likelihood)):
            break
        previous = likelihood
    return EtasFit(theta, omega, math.sqrt(sigma2), background, iteration, n)


def candidate_pairs(
    t: NDArray[np.float64], xy: NDArray[np.float64], reach_m: float, window: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """(child, lag in days, squared distance) of every earlier event (parent) within reach and window of a child.

    One search in space-time: time scaled so that ``window`` days span ``reach_m`` metres, pairs within
    ``reach_m`` in every coordinate (a box), then the disc. Searching space alone would return every
    pair of a busy corner over the whole training year, most of them months apart.
    """
    from scipy.spatial import cKDTree

    points = np.column_stack([xy, t * (reach_m / window)])
    pairs = cKDTree(points).query_pairs(reach_m, p=np.inf, output_type="ndarray")
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    a, b = pairs[:, 0], pairs[:, 1]
    later = t[a] > t[b]
    child, parent = np.where(later, a, b), np.where(later, b, a)
    lag = t[child] - t[parent]
    d2 = ((xy[child] - xy[parent]) ** 2).sum(axis=1)
    near = (lag > 0) & (lag <= window) & (d2 <= reach_m**2)
    return child[near], lag[near], d2[near]


def forecast_etas(
    fit: EtasFit,
    t: NDArray[np.float64],
    xy: NDArray[np.float64],
    *,
    start: float,
    end: float,
    centres: NDArray[np.float64],
    tree,
    cell_m: float,
    window: float,
) -> NDArray[np.float64]:
    """Expected events per cell in ``[start, end)`` days from the fit and the events before ``start``."""
    out = fit.background * (end - start)
    if fit.theta <= 0:
        return out
    recent = (t < start) & (t >= start - window)
    if not recent.any():
        return out
    lag_start, lag_end = start - t[recent], end - t[recent]
    mass = fit.theta * (np.exp(-fit.omega * lag_start) - np.exp(-fit.omega * lag_end))
    # Each event's kernel over the cells: Gaussian weights at the centres within reach, normalised.
    sigma2 = fit.sigma_m**2 + cell_m**2 * 5.0 / 12.0
    reach = 3.0 * math.sqrt(sigma2) + cell_m
    neighbours = tree.query_ball_point(xy[recent], r=reach)
    lengths = np.fromiter((len(c) for c in neighbours), dtype=np.int64, count=len(neighbours))
    if lengths.sum() == 0:
        return out
    cells = np.concatenate([np.asarray(c, dtype=np.int64) for c in neighbours if c])
    which = np.repeat(np.arange(len(lengths)), lengths)
    weight = np.exp(-((centres[cells] - xy[recent][which]) ** 2).sum(axis=1) / (2.0 * sigma2))
    norm = np.bincount(which, weights=weight, minlength=len(lengths))
    np.add.at(out, cells, mass[which] * weight / norm[which])
    return out
