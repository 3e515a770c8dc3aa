"""Seeded point sampling inside a ward's land, weighted by where its people live.

A ward's population is modelled as a mixture of Gaussian kernels around its settlement centres
(GeoNames villages, old commune centres and the ward's own representative point) plus a uniform
background; points are drawn from that mixture and kept only when they fall on the ward's land
(rejection sampling), so nothing lands in the lagoon, the sea or the neighbouring ward.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from layers.synth.context import XY, SynthContext, WardModel, lonlat_to_utm

_MAX_ROUNDS = 40
# A landmark whose position is further than this from the context's land is not placed at all.
MAX_LANDMARK_OFFSET_M = 5000.0


def sample_points(
    ward: WardModel,
    n: int,
    rng: np.random.Generator,
    *,
    within: BaseGeometry | None = None,
    spread: float = 1.0,
    background: float | None = None,
) -> XY:
    """Draw ``n`` UTM points (n, 2) on the ward's land, denser near its settlements.

    ``within`` narrows the area (e.g. residential zones); ``spread`` scales the kernel width
    (below 1 clusters harder around the centres); ``background`` overrides the uniform share.
    """
    if n <= 0:
        return np.empty((0, 2))
    area = ward.region if within is None else within
    if area.is_empty:
        raise ValueError(f"nothing to sample from in ward {ward.code}")
    shapely.prepare(area)
    share = ward.background if background is None else background
    minx, miny, maxx, maxy = area.bounds
    found: list[XY] = []
    count = 0
    for _ in range(_MAX_ROUNDS):
        m = max(4 * (n - count), 64)
        k = rng.choice(len(ward.centres), size=m, p=ward.weights)
        xy = ward.centres[k] + rng.normal(0.0, ward.sigma_m * spread, size=(m, 2))
        uniform = rng.random(m) < share
        xy[uniform] = np.column_stack([rng.uniform(minx, maxx, uniform.sum()), rng.uniform(miny, maxy, uniform.sum())])
        keep = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        found.append(keep)
        count += len(keep)
        if count >= n:
            return np.vstack(found)[:n]
    # The kernels miss a small or remote ``within`` area: fill up uniformly over it instead.
    return np.vstack([*found, _uniform(area, n - count, rng)])[:n]


def _uniform(area: BaseGeometry, n: int, rng: np.random.Generator) -> XY:
    """Uniform points on an area; falls back to its point-on-surface for slivers."""
    minx, miny, maxx, maxy = area.bounds
    found: list[XY] = []
    count = 0
    for _ in range(_MAX_ROUNDS):
        m = max(4 * (n - count), 64)
        xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        keep = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        found.append(keep)
        count += len(keep)
        if count >= n:
            return np.vstack(found)[:n]
    pos = shapely.get_coordinates(area.point_on_surface())
    return np.vstack([*found, np.repeat(pos, n - count, axis=0)])[:n]


def place_near(
    ctx: SynthContext, lonlat: tuple[float, float], rng: np.random.Generator, *, radius_m: float = 120.0
) -> tuple[WardModel, XY] | None:
    """Put a named landmark near its approximate real position, on the land of the ward there.

    Returns None when the position is more than ``MAX_LANDMARK_OFFSET_M`` from every ward's land,
    as happens when the context holds only some of the wards.
    """
    anchor = np.array(lonlat_to_utm(*lonlat))
    ward, off_by = ctx.ward_of((float(anchor[0]), float(anchor[1])))
    if off_by > MAX_LANDMARK_OFFSET_M:
        return None
    region = ward.region
    shapely.prepare(region)
    spread = max(radius_m, off_by)
    for _ in range(_MAX_ROUNDS):
        xy = anchor + rng.normal(0.0, spread, size=(32, 2))
        keep = xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]
        if len(keep):
            return ward, keep[0]
        spread *= 1.5  # the anchor sits in water or at the ward edge: look further out
    nearest = nearest_points(region, shapely.Point(anchor))[0]
    return ward, sample_points(ward, 1, rng, within=region.intersection(nearest.buffer(500.0)))[0]


def pick(shares: dict[str, float], rng: np.random.Generator) -> str:
    """Draw one key of a {value: share} table."""
    keys = list(shares)
    p = np.array([shares[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]
