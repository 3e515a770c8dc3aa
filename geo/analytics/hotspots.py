"""Hot spots now: Getis-Ord Gi* on counts per grid cell, permutation inference and FDR (PySAL ``esda``).

Significance classes follow the usual hot-spot maps: ±3 at 99 %, ±2 at 95 %, ±1 at 90 %
confidence, 0 not significant; positive is hot (a cluster of high counts), negative is cold.
The p-value of each cell is esda's folded pseudo p-value of the conditional permutation test
doubled (a two-sided test, as the 90/95/99 % bins are), and a cell is significant at a level
when it passes the Benjamini-Hochberg false-discovery-rate threshold of that level over all cells
(``esda.fdr``). A permutation p-value cannot go below ``2 / (permutations + 1)``: over N cells a
cell passes the FDR threshold of level α only when at least ``2N / (α (permutations + 1))``
cells are that significant, hence 9,999 permutations by default. ``permutations=0`` uses the
normal approximation of Gi* instead (esda's ``Zs``), as the emerging hot-spot slices do. Ties
between counts are broken at random for the permutation test (:func:`gi_star`, Notes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy import stats

from geo.errors import InvalidInput

CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))  # (class, alpha), strictest first
DEFAULT_PERMUTATIONS = 9999
CLASS_LABELS = {
    3: "hot_99",
    2: "hot_95",
    1: "hot_90",
    0: "not_significant",
    -1: "cold_90",
    -2: "cold_95",
    -3: "cold_99",
}


@dataclass(frozen=True)
class GiStar:
    """Gi* of every cell.

    Attributes
    ----------
    gi : ndarray
        The G* statistic (share of the total count in the cell's neighbourhood, itself included).
    z : ndarray
        G* standardised under normality (esda ``Zs``); its sign says hot (> 0) or cold (< 0).
    p_sim : ndarray
        esda's folded pseudo p-value from the permutations (one-sided in the observed direction;
        the normal one, ``p_norm``, without permutations).
    p_value : ndarray
        Two-sided p-value, ``min(1, 2·p_sim)``.
    gi_class : ndarray of int
        -3 … 3 after the FDR correction at 90/95/99 % (0: not significant).
    """

    gi: NDArray[np.float64]
    z: NDArray[np.float64]
    p_sim: NDArray[np.float64]
    p_value: NDArray[np.float64]
    gi_class: NDArray[np.int64]

    def frame(self) -> pd.DataFrame:
        """One row per cell."""
        return pd.DataFrame(
            {
                "gi": self.gi,
                "z": self.z,
                "p_sim": self.p_sim,
                "p_value": self.p_value,
                "gi_class": self.gi_class,
                "label": [CLASS_LABELS[int(c)] for c in self.gi_class],
            }
        )


def gi_star(
    values: NDArray[np.float64],
    weights,
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    fdr: bool = True,
    break_ties: bool = True,
    occupied_only: bool = True,
) -> GiStar:
    """Getis-Ord Gi* of ``values`` (counts per cell) with ``esda.G_Local(star=True)`` and binary weights.

    Parameters
    ----------
    values : ndarray
        One count per grid cell (events; unitless).
    weights : libpysal.weights.W
        Binary neighbours of each cell (e.g. :meth:`HexGrid.weights`, hexagons within k rings);
        Gi* adds the cell itself.
    permutations : int
        Conditional permutations for the pseudo p-values (≥ 99), or 0 for the normal approximation.
    seed : int
        Seed of the permutations (results are reproducible).
    fdr : bool
        Benjamini-Hochberg false-discovery-rate correction at each confidence level.
    break_ties : bool
        Break ties between counts at random for the permutation test (see below).
    occupied_only : bool
        Test only the cells whose neighbourhood (the cell included) holds an event: the FDR
        family is those cells, the others are class 0 (see below).

    Returns
    -------
    GiStar
        Statistic, z-score, p-values and class -3 … 3 per cell.

    Notes
    -----
    With counts, many permutations give exactly the observed G* (every neighbourhood of zeros
    gives G* = 0). esda counts those ties as "at least as large" before folding, which makes
    every all-zero neighbourhood of a sparse map a 99 % cold spot. With ``break_ties`` the
    permutation test runs on ``values + U(0, 0.001)`` (seeded): a randomised test that breaks
    ties at random and never reorders different counts (a neighbourhood holds at most a few
    hundred cells). ``gi`` and ``z`` always come from the counts themselves.

    A cell whose whole neighbourhood is empty cannot be a hot spot, and calling it cold says
    only that nothing happened there. On a city-wide grid most cells are such (mountains,
    fields), and counting them in the FDR family would make the correction needlessly strict
    (a permutation p-value has a floor): with ``occupied_only`` the family is the occupied
    neighbourhoods, a filter that never discards a possible hot spot. Only those cells are
    permuted (:func:`conditional_p`); the others keep ``p_sim = 1``.
    """
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1 or len(y) != weights.n:
        raise InvalidInput(f"values must be one number per cell ({weights.n} cells), got shape {y.shape}")
    if permutations != 0 and permutations < 99:
        raise InvalidInput(f"permutations must be 0 (normal approximation) or at least 99, got {permutations}")
    if len(y) < 3:
        raise InvalidInput(f"Gi* needs at least 3 cells, got {len(y)}")
    if not np.isfinite(y).all() or (y < 0).any():
        raise InvalidInput("counts must be finite and non-negative")
    if np.ptp(y) == 0:
        raise InvalidInput(f"every cell has the same count ({y[0]:g}): there is no clustering to test")
    adjacency = weights.sparse.tocsr()
    gi, z = gi_statistic(y, adjacency)
    tested = (adjacency @ y + y) > 0 if occupied_only else np.ones(len(y), dtype=bool)
    if permutations:
        tested_values = tie_broken(y, seed) if break_ties else y
        one_sided = np.ones(len(y))
        ids = permuted_ids(adjacency, permutations, seed)
        one_sided[tested] = conditional_p(tested_values, adjacency, np.flatnonzero(tested), ids)
    else:
        one_sided = stats.norm.sf(np.abs(z))
    p_value = np.minimum(1.0, 2.0 * one_sided)
    classes = np.zeros(len(y), dtype=np.int64)
    classes[tested] = significance_classes(z[tested], p_value[tested], fdr=fdr)
    return GiStar(gi=gi, z=z, p_sim=one_sided, p_value=p_value, gi_class=classes)


def gi_statistic(y: NDArray[np.float64], adjacency: sp.csr_matrix) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """G* (binary weights, the cell itself included) and its z-score under normality, as esda.G_Local has them."""
    n = len(y)
    gi = (adjacency @ y + y) / y.sum()
    mean = y.sum() / n
    variance = (y**2).sum() / n - mean**2
    cardinality = np.diff(adjacency.indptr) + 1.0
    expected = cardinality / n
    expected_variance = cardinality * (n - cardinality) / (n - 1) / n**2 * variance / mean**2
    return gi, (gi - expected) / np.sqrt(expected_variance)


def permuted_ids(adjacency: sp.csr_matrix, permutations: int, seed: int) -> NDArray[np.int64]:
    """The neighbour draws of esda's conditional randomisation: ``(permutations, max neighbours)`` ids among n-1.

    The same draws as ``esda.crand.vec_permutations`` without numba (legacy ``np.random`` seeded with ``seed``),
    so the p-values equal esda's; every cell reuses them, its own id skipped.
    """
    n = adjacency.shape[0]
    max_card = int(np.diff(adjacency.indptr).max())
    state = np.random.RandomState(seed)
    ids = np.empty((permutations, max_card), dtype=np.int64)
    for k in range(permutations):
        ids[k] = state.choice(n - 1, size=max_card, replace=False)
    return ids


def conditional_p(
    values: NDArray[np.float64], adjacency: sp.csr_matrix, cells: NDArray[np.int64], ids: NDArray[np.int64]
) -> NDArray[np.float64]:
    """esda's folded pseudo p-value of Gi* (binary weights, star) for ``cells`` only, vectorised.

    For cell i with k neighbours each permutation p keeps the cell's own value and draws the k
    neighbours' from the other cells (``ids[p, :k]``, ids at or above i shifted by one, as esda does).
    Only the tested cells are computed: on a sparse city grid most neighbourhoods are empty.
    """
    total = values.sum()
    cards = np.diff(adjacency.indptr)
    permutations, max_card = ids.shape
    observed = (adjacency @ values + values) / total
    out = np.empty(len(cells))
    chunk = max(1, 4_000_000 // max(1, permutations * max_card))
    slots = np.arange(max_card)
    for start in range(0, len(cells), chunk):
        part = cells[start : start + chunk]
        shifted = ids[None, :, :] + (ids[None, :, :] >= part[:, None, None])
        drawn = values[shifted] * (slots[None, None, :] < cards[part][:, None, None])
        simulated = (drawn.sum(axis=2) + values[part][:, None]) / total
        larger = (simulated >= observed[part][:, None]).sum(axis=1)
        larger = np.where(permutations - larger < larger, permutations - larger, larger)
        out[start : start + len(part)] = (larger + 1.0) / (permutations + 1.0)
    return out


def tie_broken(values: NDArray[np.float64], seed: int) -> NDArray[np.float64]:
    """``values`` plus seeded uniform noise in [0, 0.001): breaks ties between equal counts at random."""
    return np.asarray(values, dtype=np.float64) + np.random.default_rng(seed).uniform(0.0, 1e-3, len(values))


def significance_classes(
    z: NDArray[np.float64], p_value: NDArray[np.float64], *, fdr: bool = True
) -> NDArray[np.int64]:
    """Class -3 … 3 of each cell from its z sign and two-sided p-value (FDR-corrected per level)."""
    import esda

    classes = np.zeros(len(z), dtype=np.int64)
    sign = np.sign(z).astype(np.int64)
    for level, alpha in CONFIDENCE_LEVELS:
        threshold = esda.fdr(p_value, alpha) if fdr else alpha
        significant = (p_value <= threshold) & (classes == 0) & (sign != 0)
        classes[significant] = level * sign[significant]
    return classes
