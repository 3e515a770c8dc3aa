"""Flood scenarios for Huế by return period: depth grids and flood extents (synthetic, for exercises).

There is no open DEM in the repository, so ground height is a proxy (see docs/disasters.md):

- **Ground**: GeoNames ``dem`` spot heights (1,300 points, SRTM-derived heights carried by the
  gazetteer) plus the lagoon and sea shores anchored at 0.5 m, interpolated by inverse distance
  (8 nearest, power 2) on a 1 km grid and resampled bilinearly to 100 m.
- **Water**: the flood water surface stands at ``stage_m`` above mean sea level at the rivers, the
  Tam Giang - Cầu Hai and Lập An lagoons and the coast, and falls by 0.1 m per km away from them up
  to ``reach_km`` (a stand-in for hydraulic connectivity: floodwater does not reach far inland).
- **Depth** = water surface - ground where positive, on land cells of the city at 100 m in
  EPSG:32648; permanent water and cells outside the city are nodata.

Stages follow the Hương River at Kim Long (alarm level III is 3.5 m; the 1999 flood peaked near
6 m): 2.5 m, 3.5 m and 4.5 m for the 5-, 20- and 100-year floods. The figures are a plausible
exercise scenario, not a hazard map: every row and raster built here is flagged synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from affine import Affine
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.features import rasterize, shapes
from rasterio.warp import reproject

from layers.storms import UTM48N, Grid
from layers.synth.context import to_utm, to_wgs84

RESOLUTION_M = 100.0
COARSE_M = 1000.0
NODATA = -9999.0
SHORE_HEIGHT_M = 0.5
SHORE_SPACING_M = 1000.0
IDW_NEIGHBOURS = 8
GRADIENT_M_PER_KM = 0.1
MIN_DEPTH_M = 0.05  # shallower than this is wet ground, not flood
ZONE_DEPTH_M = 0.2  # the flood zone (an exercise disaster zone) is where water is at least this deep
MIN_PART_KM2 = 0.05  # smaller flooded patches are left out of the zone polygons


@dataclass(frozen=True)
class FloodScenarioSpec:
    """One scenario: its return period and the water level it brings."""

    return_period_years: int
    stage_m: float
    reach_km: float

    @property
    def raster_name(self) -> str:
        return f"flood_depth_rp{self.return_period_years}"


SCENARIOS = (
    FloodScenarioSpec(5, stage_m=2.5, reach_km=3.0),
    FloodScenarioSpec(20, stage_m=3.5, reach_km=6.0),
    FloodScenarioSpec(100, stage_m=4.5, reach_km=10.0),
)


@dataclass(frozen=True)
class FloodInputs:
    """The real data the model reads, in EPSG:4326."""

    city: shapely.Geometry
    water: NDArray  # sea and lagoon polygons
    rivers: NDArray  # river lines
    spot_lon: NDArray[np.float64]
    spot_lat: NDArray[np.float64]
    spot_height_m: NDArray[np.float64]


def _segments(lines: NDArray) -> NDArray:
    """Every edge of the given (multi)lines as its own 2-point line: fast nearest-distance queries."""
    out = []
    for part in shapely.get_parts(lines):
        coords = shapely.get_coordinates(part)
        if len(coords) >= 2:
            out.append(shapely.linestrings(np.stack([coords[:-1], coords[1:]], axis=1)))
    return np.concatenate(out)


def _grid_template(city_utm: shapely.Geometry, cell: float) -> tuple[Affine, tuple[int, int]]:
    minx, miny, maxx, maxy = city_utm.bounds
    left, top = np.floor(minx / cell) * cell, np.ceil(maxy / cell) * cell
    width = int(np.ceil((maxx - left) / cell))
    height = int(np.ceil((top - miny) / cell))
    return Affine(cell, 0, left, 0, -cell, top), (height, width)


def _idw(x: NDArray, y: NDArray, px: NDArray, py: NDArray, pz: NDArray, k: int) -> NDArray:
    """Inverse-distance (power 2) interpolation from the ``k`` nearest anchors, in chunks."""
    out = np.empty(x.size)
    fx, fy = x.ravel(), y.ravel()
    for start in range(0, fx.size, 2000):
        sl = slice(start, start + 2000)
        d2 = (fx[sl, None] - px[None, :]) ** 2 + (fy[sl, None] - py[None, :]) ** 2
        nearest = np.argpartition(d2, k, axis=1)[:, :k]
        dn = np.take_along_axis(d2, nearest, axis=1)
        w = 1.0 / np.maximum(dn, 1.0)  # power 2 on distance = power 1 on squared distance
        out[sl] = (w * pz[nearest]).sum(axis=1) / w.sum(axis=1)
    return out.reshape(x.shape)


def ground_proxy(inputs: FloodInputs, transform: Affine, shape: tuple[int, int]) -> NDArray[np.float64]:
    """Ground height proxy in metres above sea level on the given EPSG:32648 grid (see module doc)."""
    sx, sy = shapely.get_coordinates(to_utm(shapely.points(inputs.spot_lon, inputs.spot_lat))).T
    shores = shapely.segmentize(to_utm(shapely.boundary(inputs.water)), SHORE_SPACING_M)
    shore_xy = shapely.get_coordinates(shores)
    px = np.concatenate([sx, shore_xy[:, 0]])
    py = np.concatenate([sy, shore_xy[:, 1]])
    pz = np.concatenate([inputs.spot_height_m, np.full(len(shore_xy), SHORE_HEIGHT_M)])
    # Interpolate on a coarse grid covering the fine one, then resample: IDW on 1 M cells is slow.
    coarse_t = Affine(COARSE_M, 0, transform.c, 0, -COARSE_M, transform.f)
    ch = int(np.ceil(shape[0] * RESOLUTION_M / COARSE_M)) + 1
    cw = int(np.ceil(shape[1] * RESOLUTION_M / COARSE_M)) + 1
    rows, cols = np.indices((ch, cw))
    cx = coarse_t.c + (cols + 0.5) * COARSE_M
    cy = coarse_t.f - (rows + 0.5) * COARSE_M
    coarse = _idw(cx, cy, px, py, pz, IDW_NEIGHBOURS)
    fine = np.zeros(shape, dtype=np.float64)
    reproject(
        coarse,
        fine,
        src_transform=coarse_t,
        src_crs=UTM48N,
        dst_transform=transform,
        dst_crs=UTM48N,
        resampling=Resampling.bilinear,
    )
    return fine


def flood_depths(inputs: FloodInputs) -> tuple[Grid, dict[int, NDArray[np.float32]]]:
    """Flood depth in metres for every scenario on one 100 m EPSG:32648 grid over the city.

    Returns
    -------
    (Grid, dict)
        The grid (values: distance to water in metres, nodata off land) and, per return period in
        years, a float32 depth array (0 on dry land, ``NODATA`` on permanent water and outside the city).
    """
    city_utm = to_utm(inputs.city)
    water_utm = to_utm(inputs.water)
    transform, shape = _grid_template(city_utm, RESOLUTION_M)
    in_city = rasterize([city_utm], out_shape=shape, transform=transform, fill=0, default_value=1).astype(bool)
    wet = rasterize(list(water_utm), out_shape=shape, transform=transform, fill=0, default_value=1).astype(bool)
    land = in_city & ~wet
    grid = Grid(np.full(shape, np.nan), transform)
    x, y = grid.cell_centres
    edges = _segments(np.concatenate([shapely.boundary(water_utm), to_utm(inputs.rivers)]))
    tree = shapely.STRtree(edges)
    points = shapely.points(x[land], y[land])
    _, distance = tree.query_nearest(points, return_distance=True, all_matches=False)
    dist = np.full(shape, np.nan)
    dist[land] = distance
    ground = ground_proxy(inputs, transform, shape)
    depths = {}
    for spec in SCENARIOS:
        surface = spec.stage_m - GRADIENT_M_PER_KM * dist / 1000.0
        depth = np.where(dist <= spec.reach_km * 1000.0, surface - ground, 0.0)
        depth = np.where(depth >= MIN_DEPTH_M, depth, 0.0)
        depths[spec.return_period_years] = np.where(land, np.round(depth, 2), NODATA).astype(np.float32)
    return Grid(np.where(land, dist, np.nan), transform), depths


def flood_zone(depth: NDArray[np.float32], transform: Affine) -> shapely.MultiPolygon:
    """Where water is at least 0.2 m deep, as one valid EPSG:4326 MultiPolygon (patches < 0.05 km² dropped)."""
    mask = (depth >= ZONE_DEPTH_M).astype(np.uint8)
    parts = [shapely.geometry.shape(geom) for geom, value in shapes(mask, mask=mask.astype(bool), transform=transform)]
    parts = [p for p in parts if p.area >= MIN_PART_KM2 * 1e6]
    if not parts:
        return shapely.MultiPolygon()
    simple = shapely.simplify(np.array(parts), RESOLUTION_M / 2, preserve_topology=True)
    merged = shapely.make_valid(to_wgs84(shapely.union_all(simple)))
    polygons = [g for g in shapely.get_parts(merged) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(polygons)


def scenario_summaries(
    grid: Grid, depths: dict[int, NDArray[np.float32]]
) -> list[tuple[FloodScenarioSpec, dict[str, float], shapely.MultiPolygon]]:
    """Each scenario with its summary (area km², max and mean depth m where >= 0.2 m) and zone polygon."""
    cell_km2 = RESOLUTION_M**2 / 1e6
    out = []
    for spec in SCENARIOS:
        depth = depths[spec.return_period_years]
        flooded = depth[depth >= ZONE_DEPTH_M]
        summary = {
            "area_km2": round(flooded.size * cell_km2, 2),
            "max_depth_m": round(float(flooded.max()), 2) if flooded.size else 0.0,
            "mean_depth_m": round(float(flooded.mean()), 2) if flooded.size else 0.0,
        }
        out.append((spec, summary, flood_zone(depth, grid.transform)))
    return out


def spot_heights(frame: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """lon, lat and ``dem`` height (m) of the GeoNames points that carry one."""
    known = frame[frame["dem"].notna()]
    return (
        known.geometry.x.to_numpy(dtype=float),
        known.geometry.y.to_numpy(dtype=float),
        known["dem"].to_numpy(dtype=float),
    )
