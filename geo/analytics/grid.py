"""Hexagonal grids in a metric CRS, local UTM zones, time periods and counts per cell and period.

The grid is PostGIS's ``ST_HexagonGrid``: flat-topped hexagons of edge ``cell_m`` metres tiling the
plane from the CRS origin, cell ``(i, j)`` centred at ``(1.5·s·i, √3·s·(j + (i mod 2)/2))``. The
numpy implementation here assigns points to the same cells as PostGIS does (a test checks it), so
the analysis can run on a CSV without a database and its cells can be published to PostGIS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geo.errors import InvalidInput

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
SQRT3 = math.sqrt(3.0)
# A grid larger than this is refused: the analysis holds a dense cells × periods matrix.
MAX_CELLS = 400_000
# Axial neighbour directions of a hexagon.
_AXIAL_DIRECTIONS = ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))


def utm_epsg(lon: float, lat: float) -> int:
    """The EPSG code of the WGS 84 / UTM zone holding ``(lon, lat)`` (326zz north, 327zz south).

    Parameters
    ----------
    lon, lat : float
        Degrees (EPSG:4326).
    """
    if not (-180 <= lon <= 180 and -80 <= lat <= 84):
        raise InvalidInput(f"no UTM zone for lon={lon}, lat={lat} (UTM covers latitudes -80 to 84)")
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def hex_area_m2(cell_m: float) -> float:
    """Area of a regular hexagon of edge ``cell_m`` metres, in m²."""
    return 1.5 * SQRT3 * cell_m * cell_m


def hex_index(x: NDArray[np.float64], y: NDArray[np.float64], cell_m: float) -> tuple[NDArray, NDArray]:
    """The ``ST_HexagonGrid`` cell ``(i, j)`` holding each point (metres in the grid CRS)."""
    q = (2.0 / 3.0) * x / cell_m
    r = (-x / 3.0 + (SQRT3 / 3.0) * y) / cell_m
    # Cube rounding: round the three cube coordinates and fix the one that moved most.
    s = -q - r
    rq, rr, rs = np.rint(q), np.rint(r), np.rint(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    i = rq.astype(np.int64)
    j = rr.astype(np.int64) + (i - (i & 1)) // 2
    return i, j


def hex_centres(i: NDArray[np.int64], j: NDArray[np.int64], cell_m: float) -> NDArray[np.float64]:
    """Centres ``(n, 2)`` of cells ``(i, j)`` in metres."""
    x = 1.5 * cell_m * i
    y = SQRT3 * cell_m * (j + 0.5 * (i & 1))
    return np.column_stack([x, y]).astype(np.float64)


def hex_polygons(i: NDArray[np.int64], j: NDArray[np.int64], cell_m: float) -> NDArray[np.object_]:
    """Shapely hexagons of cells ``(i, j)`` (vertices in ``ST_HexagonGrid``'s order)."""
    centres = hex_centres(i, j, cell_m)
    angles = np.deg2rad(np.array([180, 240, 300, 0, 60, 120, 180]))
    ring = np.column_stack([np.cos(angles), np.sin(angles)]) * cell_m
    coords = centres[:, None, :] + ring[None, :, :]
    return shapely.polygons(coords)


def _key(i: NDArray[np.int64], j: NDArray[np.int64]) -> NDArray[np.int64]:
    return (i.astype(np.int64) << 32) + (j.astype(np.int64) & 0xFFFFFFFF)


@dataclass(frozen=True, eq=False)
class HexGrid:
    """The cells of a hexagonal grid that meet a study area.

    Attributes
    ----------
    cell_m : float
        Hexagon edge (= circumradius) in metres; a cell's area is ``2.598 · cell_m²``.
    epsg : int
        The metric CRS of the grid (a UTM zone).
    i, j : ndarray of int64
        ``ST_HexagonGrid`` column and row of each cell.
    """

    cell_m: float
    epsg: int
    i: NDArray[np.int64]
    j: NDArray[np.int64]
    _lookup: pd.Index = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lookup", pd.Index(_key(self.i, self.j)))

    @property
    def n(self) -> int:
        """Number of cells."""
        return len(self.i)

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell, m²."""
        return hex_area_m2(self.cell_m)

    @cached_property
    def centres(self) -> NDArray[np.float64]:
        """Cell centres ``(n, 2)`` in metres (grid CRS)."""
        return hex_centres(self.i, self.j, self.cell_m)

    def polygons(self) -> NDArray[np.object_]:
        """Cell hexagons in the grid CRS."""
        return hex_polygons(self.i, self.j, self.cell_m)

    def polygons_wgs84(self) -> NDArray[np.object_]:
        """Cell hexagons in EPSG:4326."""
        to_wgs84 = Transformer.from_crs(self.epsg, 4326, always_xy=True)
        return shapely.transform(self.polygons(), lambda c: np.column_stack(to_wgs84.transform(c[:, 0], c[:, 1])))

    def cell_of(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Position in the grid of the cell holding each point, or -1 outside the grid."""
        i, j = hex_index(np.asarray(x, float), np.asarray(y, float), self.cell_m)
        return self._lookup.get_indexer(_key(i, j)).astype(np.int64)

    def adjacency(self, rings: int = 1, *, self_loops: bool = False) -> sp.csr_matrix:
        """Binary sparse matrix linking each cell to the cells within ``rings`` steps (hex distance)."""
        if rings < 1:
            raise InvalidInput(f"rings must be at least 1, got {rings}")
        q = self.i
        r = self.j - (self.i - (self.i & 1)) // 2
        rows: list[NDArray[np.int64]] = []
        cols: list[NDArray[np.int64]] = []
        for dq in range(-rings, rings + 1):
            for dr in range(max(-rings, -dq - rings), min(rings, -dq + rings) + 1):
                if dq == 0 and dr == 0 and not self_loops:
                    continue
                nq, nr = q + dq, r + dr
                ni = nq
                nj = nr + (nq - (nq & 1)) // 2
                pos = self._lookup.get_indexer(_key(ni, nj))
                ok = pos >= 0
                rows.append(np.nonzero(ok)[0])
                cols.append(pos[ok])
        row = np.concatenate(rows)
        col = np.concatenate(cols)
        return sp.csr_matrix((np.ones(len(row)), (row, col)), shape=(self.n, self.n))

    def weights(self, rings: int = 1):
        """Binary ``libpysal`` weights: cells within ``rings`` hexagon steps are neighbours."""
        from libpysal.weights import W

        adjacency = self.adjacency(rings).tocsr()
        neighbours = {
            k: adjacency.indices[adjacency.indptr[k] : adjacency.indptr[k + 1]].tolist() for k in range(self.n)
        }
        return W(neighbours, silence_warnings=True)


def build_grid(area: BaseGeometry, cell_m: float, epsg: int) -> HexGrid:
    """Every hexagon of edge ``cell_m`` metres that meets ``area`` (a polygon in the metric CRS ``epsg``).

    Parameters
    ----------
    area : shapely Polygon or MultiPolygon
        Study area in metres (EPSG ``epsg``).
    cell_m : float
        Hexagon edge in metres (> 0).
    epsg : int
        The metric CRS of ``area``.
    """
    if not cell_m > 0 or not math.isfinite(cell_m):
        raise InvalidInput(f"cell size must be a positive number of metres, got {cell_m}")
    if area.is_empty or area.area <= 0:
        raise InvalidInput("the study area is empty (zero area)")
    minx, miny, maxx, maxy = area.bounds
    i0, i1 = math.floor(minx / (1.5 * cell_m)) - 1, math.ceil(maxx / (1.5 * cell_m)) + 1
    j0, j1 = math.floor(miny / (SQRT3 * cell_m)) - 1, math.ceil(maxy / (SQRT3 * cell_m)) + 1
    candidates = (i1 - i0 + 1) * (j1 - j0 + 1)
    cells_estimate = area.area / hex_area_m2(cell_m)
    if candidates > 4 * MAX_CELLS or cells_estimate > MAX_CELLS:
        raise InvalidInput(
            f"cell size {cell_m:g} m gives about {max(cells_estimate, candidates / 4):,.0f} cells over the study area "
            f"({area.area / 1e6:,.1f} km²); the limit is {MAX_CELLS:,}: use larger cells"
        )
    mesh_i, mesh_j = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1), indexing="ij")
    ii, jj = mesh_i.ravel(), mesh_j.ravel()
    shapely.prepare(area)
    keep = shapely.intersects(area, hex_polygons(ii, jj, cell_m))
    order = np.lexsort((jj[keep], ii[keep]))
    return HexGrid(cell_m=float(cell_m), epsg=epsg, i=ii[keep][order], j=jj[keep][order])


# --- periods -----------------------------------------------------------------------------


def check_period(period: str) -> Period:
    """``period`` if it is day, week or month; InvalidInput naming it otherwise."""
    for known in PERIODS:
        if period == known:
            return known
    raise InvalidInput(f"period must be one of {', '.join(PERIODS)}, got {period!r}")


def period_floor(local: pd.DatetimeIndex, period: Period) -> pd.DatetimeIndex:
    """The start (naive local midnight) of the day, ISO week (Monday) or month holding each time."""
    naive = local.tz_localize(None) if local.tz is not None else local
    days = naive.normalize()
    if period == "day":
        return days
    if period == "week":
        return days - pd.to_timedelta(days.day_of_week, unit="D")
    return days - pd.to_timedelta(days.day - 1, unit="D")


def period_starts(first: pd.Timestamp, last: pd.Timestamp, period: Period) -> pd.DatetimeIndex:
    """Consecutive period starts from the one holding ``first`` to the one holding ``last`` (naive local)."""
    freq = {"day": "D", "week": "W-MON", "month": "MS"}[period]
    return pd.date_range(first, last, freq=freq)


def next_period_start(start: pd.Timestamp, period: Period) -> pd.Timestamp:
    """The start of the period after the one starting at ``start``."""
    if period == "day":
        return start + pd.Timedelta(days=1)
    if period == "week":
        return start + pd.Timedelta(days=7)
    return start + pd.offsets.MonthBegin(1)


@dataclass(frozen=True)
class PeriodAxis:
    """The complete periods an analysis runs over.

    Attributes
    ----------
    period : {'day', 'week', 'month'}
        Length of one period (weeks start on Monday, as ISO weeks).
    tz : str
        IANA time zone in which days, weeks and months are cut.
    starts : DatetimeIndex
        Naive local start of each period, consecutive.
    """

    period: Period
    tz: str
    starts: pd.DatetimeIndex

    @property
    def n(self) -> int:
        return len(self.starts)

    def end_of(self, k: int) -> pd.Timestamp:
        """Naive local end (exclusive) of period ``k`` (``k`` may be ``n``: the next period)."""
        return next_period_start(self.start_of(k), self.period)

    def start_of(self, k: int) -> pd.Timestamp:
        """Naive local start of period ``k``; ``k = n`` is the period after the last."""
        if k < self.n:
            return self.starts[k]
        start = self.starts[-1]
        for _ in range(k - self.n + 1):
            start = next_period_start(start, self.period)
        return start

    def label(self, k: int) -> str:
        """``2026-10-05`` (day/week start) or ``2026-10`` (month)."""
        start = self.start_of(k)
        return start.strftime("%Y-%m") if self.period == "month" else start.strftime("%Y-%m-%d")


def complete_axis(
    times_utc: pd.DatetimeIndex, period: Period, tz: str, max_periods: int | None = None
) -> tuple[PeriodAxis, NDArray[np.int64]]:
    """The periods fully covered by the events' time span and each event's period (-1: outside).

    A first or last period the data only partly covers (the data starts on a Wednesday, or ends
    mid-month) is dropped: its low count would read as a real drop. ``max_periods`` keeps only the
    most recent ones.
    """
    local = times_utc.tz_convert(tz)
    floors = period_floor(local, period)
    naive = local.tz_localize(None)
    first, last = naive.min(), naive.max()
    starts = period_starts(floors.min(), floors.max(), period)
    slack = pd.Timedelta(hours=3) if period == "day" else pd.Timedelta(days=1)
    keep = np.ones(len(starts), dtype=bool)
    if first > starts[0] + slack:
        keep[0] = False
    if last < next_period_start(starts[-1], period) - slack:
        keep[-1] = False
    starts = starts[keep]
    if max_periods is not None and len(starts) > max_periods:
        starts = starts[-max_periods:]
    axis = PeriodAxis(period=period, tz=tz, starts=pd.DatetimeIndex(starts))
    if axis.n == 0:
        return axis, np.full(len(times_utc), -1, dtype=np.int64)
    pos = pd.Index(axis.starts).get_indexer(floors)
    return axis, pos.astype(np.int64)


def count_matrix(
    cell: NDArray[np.int64],
    period: NDArray[np.int64],
    n_cells: int,
    n_periods: int,
    weights: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Counts ``(n_cells, n_periods)`` of events per cell and period (events at -1 are ignored)."""
    ok = (cell >= 0) & (period >= 0)
    flat = cell[ok] * n_periods + period[ok]
    w = None if weights is None else weights[ok]
    counts = np.bincount(flat, weights=w, minlength=n_cells * n_periods)
    return counts.reshape(n_cells, n_periods).astype(np.float64)


def rings_for_distance(distance_m: float, cell_m: float) -> int:
    """How many hexagon rings reach ``distance_m`` metres (centre to centre steps of √3·cell_m)."""
    return max(1, math.ceil(distance_m / (SQRT3 * cell_m) - 1e-9))


def categories_filter(categories: NDArray[np.object_], wanted: Sequence[str] | None) -> NDArray[np.bool_]:
    """Events whose category is in ``wanted`` (all when ``wanted`` is empty)."""
    if not wanted:
        return np.ones(len(categories), dtype=bool)
    return np.isin(categories.astype(str), np.asarray(list(wanted), dtype=str))
