"""Readers of the hazard layers for the loader: storm exposure, flood scenarios, the raster catalogue.

``read_rasters`` also writes the Cloud-Optimized GeoTIFFs it catalogues (under
``<data_dir>/rasters``): the files and their ``rasters`` rows are produced together, so a
catalogue row never names a file another version of the code wrote.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.rasters import raster_dir, write_cog
from geo.settings import Settings
from layers import storms
from layers.sources import CITY_FILE, GEONAMES_FILE, read_rivers, read_wards, read_water_areas
from layers.storms import Grid
from layers.synth import floods
from layers.synth.context import to_wgs84

LAYERS_DIR = Path(__file__).resolve().parent
# The code that computes these layers is one of their inputs: a change to it reloads them.
CODE_INPUTS = (
    LAYERS_DIR / "hazards.py",
    LAYERS_DIR / "storms.py",
    LAYERS_DIR / "synth" / "floods.py",
    LAYERS_DIR.parent / "geo" / "rasters.py",
)
SRC_STORMS = "JTWC best track 1945-2021 (public domain); HueGIS storm exposure"
SRC_FLOODS = "HueGIS flood scenario generator (synthetic: GeoNames spot heights and distance to water, no DEM)"


@cache
def _segments() -> gpd.GeoDataFrame:
    return storms.track_segments(storms.read_storm_points())


@cache
def _flood_model() -> tuple[Grid, dict[int, NDArray[np.float32]]]:

    water = read_water_areas()
    lon, lat, height = floods.spot_heights(gpd.read_file(GEONAMES_FILE))
    inputs = floods.FloodInputs(
        city=shapely.union_all(gpd.read_file(CITY_FILE).geometry.values),
        water=water[water["water_type"].isin(["sea", "lagoon"])].geometry.values,
        rivers=read_rivers().geometry.values,
        spot_lon=lon,
        spot_lat=lat,
        spot_height_m=height,
    )
    return floods.flood_depths(inputs)


def read_storm_exposure() -> gpd.GeoDataFrame:
    """Storms within 50/100/300 km of each ward, per decade and for 1945-2021 (wards simplified to 20 m)."""

    wards = read_wards()
    table = storms.storm_exposure(wards, _segments())
    shapes = dict(zip(wards["code"], storms.simplified_wgs84(wards.geometry.values, 20.0), strict=True))
    geom = gpd.GeoSeries([shapes[code] for code in table["ward_code"]], crs=4326)
    out = gpd.GeoDataFrame(table, geometry=geom.values, crs=4326).rename_geometry("geom")
    out["decade"] = out["decade"].astype("Int64")
    out["source"] = SRC_STORMS
    out["synthetic"] = False
    return out


def read_flood_scenarios() -> gpd.GeoDataFrame:
    """The 5-, 20- and 100-year flood extents (water >= 0.2 m deep) with their stage and depths."""
    grid, depths = _flood_model()
    rows, geoms = [], []
    for spec, summary, zone in floods.scenario_summaries(grid, depths):
        rows.append(
            {
                "return_period_years": spec.return_period_years,
                "name": f"{spec.return_period_years}-year flood (exercise scenario)",
                "name_vi": f"Lũ chu kỳ {spec.return_period_years} năm (kịch bản diễn tập)",
                "stage_m": spec.stage_m,
                "reach_km": spec.reach_km,
                **summary,
                "raster_name": spec.raster_name,
            }
        )
        geoms.append(zone)
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=4326).rename_geometry("geom")
    out["source"] = SRC_FLOODS
    out["synthetic"] = True
    return out


def _footprint(grid_transform, shape: tuple[int, int]) -> shapely.MultiPolygon:
    """The raster's outline in EPSG:4326 (edges densified so the UTM rectangle bends correctly)."""
    h, w = shape
    left, top = grid_transform.c, grid_transform.f
    right, bottom = left + w * grid_transform.a, top + h * grid_transform.e
    box = shapely.segmentize(shapely.box(left, bottom, right, top), 5000.0)
    return shapely.MultiPolygon([to_wgs84(box)])


def read_rasters(settings: Settings) -> gpd.GeoDataFrame:
    """Write the hazard COGs (flood depth per scenario, storm-passage density) and catalogue them."""
    out_dir = raster_dir(settings)
    rows, geoms = [], []
    grid, depths = _flood_model()
    for spec in floods.SCENARIOS:
        depth = depths[spec.return_period_years]
        path = write_cog(
            out_dir / f"{spec.raster_name}.tif", depth, transform=grid.transform, crs=grid.crs, nodata=floods.NODATA
        )
        valid = depth[depth != floods.NODATA]
        rows.append(
            {
                "name": spec.raster_name,
                "title": f"Flood depth, {spec.return_period_years}-year flood (exercise scenario)",
                "title_vi": f"Độ sâu ngập, lũ chu kỳ {spec.return_period_years} năm (kịch bản diễn tập)",
                "kind": "flood_depth",
                "units": "m",
                "path": path.name,
                "nodata": floods.NODATA,
                "min_value": float(valid.min()),
                "max_value": float(valid.max()),
                "colormap": "blues",
                "resolution_m": floods.RESOLUTION_M,
                "source": SRC_FLOODS,
                "synthetic": True,
            }
        )
        geoms.append(_footprint(grid.transform, depth.shape))
    density = storms.storm_density(_segments())
    path = write_cog(out_dir / "storm_density.tif", density.values, transform=density.transform, crs=density.crs)
    rows.append(
        {
            "name": "storm_density",
            "title": "Storm passages within 50 km, 1945-2021",
            "title_vi": "Số cơn bão đi qua trong bán kính 50 km, 1945-2021",
            "kind": "storm_density",
            "units": "storms",
            "path": path.name,
            "nodata": None,
            "min_value": float(density.values.min()),
            "max_value": float(density.values.max()),
            "colormap": "ylorrd",
            "resolution_m": storms.DENSITY_CELL_KM * 1000.0,
            "source": SRC_STORMS,
            "synthetic": False,
        }
    )
    geoms.append(_footprint(density.transform, density.values.shape))
    frame = pd.DataFrame(rows)
    frame["crs"] = storms.UTM48N
    shapes_ = [depths[s.return_period_years].shape for s in floods.SCENARIOS] + [density.values.shape]
    frame["height"] = [s[0] for s in shapes_]
    frame["width"] = [s[1] for s in shapes_]
    out = gpd.GeoDataFrame(frame, geometry=geoms, crs=4326).rename_geometry("geom")
    return out[[c for c in out.columns if c not in ("source", "synthetic", "geom")] + ["geom", "source", "synthetic"]]
