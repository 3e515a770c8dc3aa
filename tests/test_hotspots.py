"""Hexagonal grid (against PostGIS ST_HexagonGrid), Gi* (against esda), emerging hot-spot rules, Mann-Kendall."""

from __future__ import annotations

import esda
import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely

from geo.analytics.emerging import CATEGORIES, classify_series, emerging_hotspots, mann_kendall
from geo.analytics.grid import build_grid, complete_axis, hex_index, utm_epsg
from geo.analytics.hotspots import gi_star, significance_classes, tie_broken
from geo.errors import InvalidInput

# --- grid ------------------------------------------------------------------------------------


def test_points_fall_in_the_same_hexagon_as_st_hexagongrid(db: psycopg.Connection) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(560_000, 590_000, 300)  # Huế in UTM 48N
    y = rng.uniform(1_810_000, 1_840_000, 300)
    for cell_m in (75.0, 250.0, 1000.0):
        i, j = hex_index(x, y, cell_m)
        rows = db.execute(
            "SELECT p.k, h.i, h.j FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(x, y, k) "
            "CROSS JOIN LATERAL ST_HexagonGrid(%s, ST_SetSRID(ST_MakePoint(p.x, p.y), 32648)) AS h "
            "WHERE ST_Intersects(h.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 32648)) ORDER BY p.k",
            (x.tolist(), y.tolist(), cell_m),
        ).fetchall()
        assert [(r[1], r[2]) for r in rows] == list(zip(i.tolist(), j.tolist(), strict=True))


def test_grid_cells_are_postgis_hexagons_covering_the_area(db: psycopg.Connection) -> None:
    area = shapely.Point(575_000, 1_825_000).buffer(2_000)
    grid = build_grid(area, 250, 32648)
    expected = db.execute(
        "SELECT count(*) FROM ST_HexagonGrid(250, ST_GeomFromText(%s, 32648)) AS h "
        "WHERE ST_Intersects(h.geom, ST_GeomFromText(%s, 32648))",
        (area.wkt, area.wkt),
    ).fetchone()
    assert expected is not None and grid.n == expected[0]
    k = grid.n // 2
    same = db.execute(
        "SELECT ST_HausdorffDistance(h.geom, ST_GeomFromText(%s, 32648)) FROM ST_HexagonGrid(250, "
        "ST_GeomFromText(%s, 32648)) AS h WHERE h.i = %s AND h.j = %s",
        (grid.polygons()[k].wkt, area.wkt, int(grid.i[k]), int(grid.j[k])),
    ).fetchone()
    assert same is not None and same[0] < 1e-6
    assert grid.cell_area_m2 == pytest.approx(grid.polygons()[0].area)
    # Every hexagon has 6 neighbours at one ring, 18 within two, unless it lies on the edge.
    inner = grid.adjacency(1).sum(axis=1).A.ravel()
    assert inner.max() == 6 and grid.adjacency(2).sum(axis=1).max() == 18


def test_grid_rejects_bad_cell_sizes() -> None:
    area = shapely.box(0, 0, 1000, 1000)
    for bad in (0, -5, float("nan")):
        with pytest.raises(InvalidInput, match="cell size"):
            build_grid(area, bad, 32648)
    with pytest.raises(InvalidInput, match="use larger cells"):
        build_grid(shapely.box(0, 0, 1e6, 1e6), 1, 32648)


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [(107.58, 16.46, 32648), (-46.63, -23.55, 32723), (-87.63, 41.88, 32616), (2.35, 48.86, 32631)],
)
def test_utm_zone_of_a_point(lon: float, lat: float, epsg: int) -> None:
    assert utm_epsg(lon, lat) == epsg


def test_periods_are_complete_weeks_from_monday_in_the_local_zone() -> None:
    # Wednesday 2025-01-01 … Sunday 2025-02-16 in Huế: the first (partial) week is dropped.
    times = pd.DatetimeIndex(pd.date_range("2025-01-01 01:00", "2025-02-16 22:00", freq="5h", tz="Asia/Ho_Chi_Minh"))
    axis, index = complete_axis(times.tz_convert("UTC"), "week", "Asia/Ho_Chi_Minh")
    assert axis.starts[0] == pd.Timestamp("2025-01-06") and axis.starts[-1] == pd.Timestamp("2025-02-10")
    assert all(d.day_of_week == 0 for d in axis.starts)
    assert (index[times < pd.Timestamp("2025-01-06", tz="Asia/Ho_Chi_Minh")] == -1).all()
    # 2025-01-05 23:30 in Huế is 16:30 UTC on the 5th: still the dropped week, not the next one.
    late_sunday = pd.DatetimeIndex([pd.Timestamp("2025-01-05 23:30", tz="Asia/Ho_Chi_Minh")]).tz_convert("UTC")
    assert complete_axis(late_sunday.append(times.tz_convert("UTC")), "week", "Asia/Ho_Chi_Minh")[1][0] == -1


# --- Gi* ------------------------------------------------------------------------------------


def clustered_counts(seed: int = 3) -> tuple:
    """A 30 × 30 hexagon grid with Poisson noise and one planted cluster."""
    grid = build_grid(shapely.box(0, 0, 30 * 150, 30 * 173), 100, 32648)
    rng = np.random.default_rng(seed)
    y = rng.poisson(1.0, grid.n).astype(float)
    centre = grid.centres.mean(axis=0)
    near = np.hypot(*(grid.centres - centre).T) < 400
    y[near] += rng.poisson(6.0, near.sum())
    return grid, y, near


@pytest.mark.parametrize("break_ties", [False, True])
def test_gi_star_equals_esda_g_local_star(break_ties: bool) -> None:
    grid, y, _ = clustered_counts()
    w = grid.weights(1)
    ours = gi_star(y, w, permutations=999, seed=12345, break_ties=break_ties, occupied_only=False)
    reference = esda.G_Local(y, grid.weights(1), transform="B", star=True, permutations=999, seed=12345)
    np.testing.assert_allclose(ours.gi, reference.Gs)
    np.testing.assert_allclose(ours.z, reference.Zs)
    if break_ties:  # the permutation test runs on the counts plus the documented seeded noise
        reference = esda.G_Local(tie_broken(y, 12345), grid.weights(1), transform="B", star=True, permutations=999,
                                 seed=12345)  # fmt: skip
    np.testing.assert_allclose(ours.p_sim, reference.p_sim)
    # Classes: two-sided p, Benjamini-Hochberg threshold per level, sign from z.
    p = np.minimum(1, 2 * reference.p_sim)
    expected = np.zeros(len(y), dtype=int)
    for level, alpha in ((1, 0.10), (2, 0.05), (3, 0.01)):
        significant = p <= esda.fdr(p, alpha)
        expected[significant] = level * np.sign(reference.Zs[significant]).astype(int)
    np.testing.assert_array_equal(ours.gi_class, expected)


def test_gi_star_finds_the_planted_cluster() -> None:
    grid, y, near = clustered_counts()
    found = gi_star(y, grid.weights(1), seed=7)  # 9,999 permutations: p can go below the FDR thresholds
    assert (found.gi_class[near] > 0).mean() > 0.5, "the planted cluster is a hot spot"
    assert (found.gi_class[~near] > 0).mean() < 0.05


def test_empty_neighbourhoods_of_a_sparse_map_are_not_cold_spots() -> None:
    grid, _, near = clustered_counts()
    y = np.zeros(grid.n)
    y[near] = 5.0  # one cluster, zeros everywhere else
    raw = gi_star(y, grid.weights(1), seed=1, break_ties=False, occupied_only=False)
    fair = gi_star(y, grid.weights(1), seed=1, occupied_only=False)
    default = gi_star(y, grid.weights(1), seed=1)
    assert (raw.gi_class == -3).mean() > 0.5, "esda's tie counting: zeros everywhere look extreme"
    # Ties broken at random: a null cell is cold only as often as the FDR level allows.
    assert (fair.gi_class < 0).mean() < 0.01
    # Empty neighbourhoods are not tested at all by default: no cold spot, the cluster is hot.
    empty = (grid.weights(1).sparse @ y + y) == 0
    assert (default.gi_class[empty] == 0).all() and (default.gi_class < 0).sum() == 0
    assert (default.gi_class[near] > 0).mean() > 0.5


def test_significance_classes_by_level_and_fdr() -> None:
    z = np.array([3.0, -3.0, 2.0, 1.0, 0.5, -1.0])
    p = np.array([0.001, 0.001, 0.03, 0.08, 0.5, 0.2])
    assert significance_classes(z, p, fdr=False).tolist() == [3, -3, 2, 1, 0, 0]
    # Benjamini-Hochberg over 6 cells: 0.03 passes at 10 % (≤ 3·0.10/6) but not at 5 % (> 3·0.05/6);
    # 0.08 fails at 10 % (> 4·0.10/6).
    assert significance_classes(z, p, fdr=True).tolist() == [3, -3, 1, 0, 0, 0]


def test_gi_star_rejects_unusable_input() -> None:
    grid, y, _ = clustered_counts()
    with pytest.raises(InvalidInput, match="same count"):
        gi_star(np.zeros(grid.n), grid.weights(1))
    with pytest.raises(InvalidInput, match="one number per cell"):
        gi_star(y[:-1], grid.weights(1))
    with pytest.raises(InvalidInput, match="permutations"):
        gi_star(y, grid.weights(1), permutations=10)
    normal = gi_star(y, grid.weights(1), permutations=0)
    reference = esda.G_Local(y, grid.weights(1), transform="B", star=True, permutations=0)
    np.testing.assert_allclose(normal.p_value, np.minimum(1, 2 * reference.p_norm))


# --- Mann-Kendall and emerging hot spots -------------------------------------------------------


def test_mann_kendall_by_hand() -> None:
    # n = 10, S = 39; ties: two 2s and three 6s → Var(S) = (10·9·25 − 2·1·9 − 3·2·11) / 18.
    result = mann_kendall(np.array([1, 2, 2, 3, 5, 4, 6, 6, 6, 8.0]))
    assert result.s == 39
    assert result.var_s == pytest.approx((10 * 9 * 25 - 18 - 66) / 18)
    assert result.z == pytest.approx(38 / np.sqrt(result.var_s))
    assert result.tau == pytest.approx(39 / 45)
    flat = mann_kendall(np.array([2.0, 1.0, 2.0, 1.0, 2.0, 1.0]))
    assert flat.p > 0.5
    assert mann_kendall(np.arange(12.0)[::-1]).z < -3


H, C, N = 3.0, -3.0, 0.2  # a significant hot slice, a significant cold slice, nothing


def series(*values: float) -> tuple[np.ndarray, np.ndarray]:
    z = np.array(values, dtype=float)
    return z, np.abs(z) >= 2


HAND_BUILT = {
    "new_hot": series(N, N, N, N, N, N, N, N, N, H),
    "consecutive_hot": series(N, N, N, N, N, N, N, H, H, H),
    "intensifying_hot": series(2.1, 2.3, 2.6, 2.9, 3.2, 3.5, 3.9, 4.2, 4.6, 5.0),
    "persistent_hot": series(3.1, 2.9, 3.2, 2.8, 3.0, 3.3, 2.7, 3.1, 2.9, 3.0),
    "diminishing_hot": series(5.0, 4.6, 4.2, 3.9, 3.5, 3.2, 2.9, 2.6, 2.3, 2.1),
    "sporadic_hot": series(N, H, N, N, H, N, N, N, N, H),
    "oscillating_hot": series(N, C, N, N, H, N, C, N, N, H),
    "historical_hot": series(H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, N),
    "new_cold": series(N, N, N, N, N, N, N, N, N, C),
    "consecutive_cold": series(N, N, N, N, N, N, N, C, C, C),
    "intensifying_cold": series(-2.1, -2.3, -2.6, -2.9, -3.2, -3.5, -3.9, -4.2, -4.6, -5.0),
    "persistent_cold": series(-3.1, -2.9, -3.2, -2.8, -3.0, -3.3, -2.7, -3.1, -2.9, -3.0),
    "diminishing_cold": series(-5.0, -4.6, -4.2, -3.9, -3.5, -3.2, -2.9, -2.6, -2.3, -2.1),
    "sporadic_cold": series(N, C, N, N, C, N, N, N, N, C),
    "oscillating_cold": series(N, H, N, N, C, N, H, N, N, C),
    "historical_cold": series(C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, N),
    "no_pattern": series(N, H, N, N, H, N, N, N, N, N),
}


def test_every_category_has_a_hand_built_case() -> None:
    assert set(HAND_BUILT) == set(CATEGORIES)


@pytest.mark.parametrize("category", list(HAND_BUILT))
def test_emerging_categories_match_hand_built_cases(category: str) -> None:
    z, significant = HAND_BUILT[category]
    assert classify_series(z, significant) == category


def test_emerging_rule_boundaries() -> None:
    # Hot in 9 of 10 slices including the last: the 90 % rules apply (persistent, not sporadic).
    z, sig = series(H, H, H, H, N, H, H, H, H, H)
    assert classify_series(z, sig) == "persistent_hot"
    # A run of hot slices at the end after an earlier hot slice is sporadic, not consecutive.
    z, sig = series(H, N, N, N, N, N, N, H, H, H)
    assert classify_series(z, sig) == "sporadic_hot"
    # A single final hot slice after a cold one oscillates rather than being new.
    z, sig = series(C, N, N, N, N, N, N, N, N, H)
    assert classify_series(z, sig) == "oscillating_hot"
    with pytest.raises(InvalidInput):
        classify_series(np.array([1.0, 2.0]), np.array([True, True]))


def test_emerging_hotspots_find_a_cluster_that_appears_in_the_last_slices() -> None:
    grid, _, near = clustered_counts()
    rng = np.random.default_rng(5)
    counts = rng.poisson(1.0, (grid.n, 8)).astype(float)
    counts[near, -2:] += rng.poisson(8.0, (near.sum(), 2))
    frame = emerging_hotspots(counts, grid.weights(1), seed=1)
    found = frame.loc[near, "category"].value_counts()
    assert found.index[0] == "consecutive_hot", found
    assert (frame.loc[~near, "category"].isin(["consecutive_hot", "new_hot"])).mean() < 0.05
    assert set(frame["category"]) <= set(CATEGORIES)
