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
from numpy.typing import NDArray

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
    neighbourhoods, a filter that never discards a possible hot spot.
    """
    import esda

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
    result = esda.G_Local(
        y, weights, transform="B", star=True, permutations=0 if break_ties else permutations, seed=seed, n_jobs=1,
        keep_simulations=False,
    )  # fmt: skip
    if permutations and break_ties:
        tested = esda.G_Local(
            tie_broken(y, seed), weights, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1,
            keep_simulations=False,
        )  # fmt: skip
        one_sided = np.asarray(tested.p_sim, dtype=np.float64)
    else:
        one_sided = np.asarray(result.p_sim if permutations else result.p_norm, dtype=np.float64)
    p_value = np.minimum(1.0, 2.0 * one_sided)
    z = np.asarray(result.Zs, dtype=np.float64)
    classes = np.zeros(len(y), dtype=np.int64)
    tested = np.ones(len(y), dtype=bool)
    if occupied_only:
        tested = (weights.sparse @ y + y) > 0
    classes[tested] = significance_classes(z[tested], p_value[tested], fdr=fdr)
    return GiStar(gi=np.asarray(result.Gs, dtype=np.float64), z=z, p_sim=one_sided, p_value=p_value,
                  gi_class=classes)  # fmt: skip


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
