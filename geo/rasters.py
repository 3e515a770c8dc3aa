"""Hazard rasters: Cloud-Optimized GeoTIFFs, their catalogue and zonal statistics.

``tiles/raster.py`` renders their PNG tiles. Rasters live under ``<data_dir>/rasters`` and are
registered (name, kind, units, value range, colormap, footprint) in the ``rasters`` table.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from psycopg import AsyncConnection
from rasterio.features import geometry_mask
from rasterio.io import MemoryFile
from rasterio.warp import transform_geom

from geo.db import fetch_all, fetch_one
from geo.errors import InvalidInput, NotFound
from geo.settings import Settings

RASTER_DIR_NAME = "rasters"


def raster_dir(settings: Settings) -> Path:
    """Where the platform keeps its COG files."""
    return settings.data_dir / RASTER_DIR_NAME


def write_cog(
    path: Path,
    values: np.ndarray,
    *,
    transform: Affine,
    crs: str,
    nodata: float | None = None,
    resampling: str = "average",
) -> Path:
    """Write one band as a Cloud-Optimized GeoTIFF (DEFLATE, internal overviews), atomically.

    The file is written next to ``path`` and renamed over it, so a reader (a tile request, or a
    test run sharing the data directory) never sees half a file.
    """
    if values.ndim != 2:
        raise ValueError(f"write_cog takes one band (2-D array), got shape {values.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": values.shape[1],
        "height": values.shape[0],
        "count": 1,
        "dtype": values.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tif", dir=path.parent)
    os.close(fd)
    try:
        with MemoryFile() as memfile:
            with memfile.open(**profile) as dst:
                dst.write(values, 1)
            with memfile.open() as src:
                rasterio.shutil.copy(
                    src,
                    tmp,
                    driver="COG",
                    COMPRESS="DEFLATE",
                    BLOCKSIZE=256,
                    OVERVIEW_RESAMPLING=resampling.upper(),
                )
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; the server may run as another user
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


@dataclass(frozen=True)
class ZoneStats:
    """Statistics of the raster cells whose centres fall inside one zone."""

    key: str
    cells: int
    min: float | None
    max: float | None
    mean: float | None
    cells_above: int
    share_above: float | None
    area_km2_above: float


def zonal_stats(
    dataset: rasterio.io.DatasetReader,
    zones: Iterable[tuple[str, dict[str, Any]]],
    *,
    zones_crs: str = "EPSG:4326",
    threshold: float = 0.0,
) -> list[ZoneStats]:
    """Min, max, mean and the share of cells above ``threshold`` for each zone, on band 1.

    Parameters
    ----------
    dataset : rasterio dataset
        Open single-band raster (for HueGIS rasters: EPSG:32648, cell size in metres).
    zones : iterable of (key, GeoJSON geometry)
        Polygons in ``zones_crs`` (EPSG:4326 lon/lat by default); reprojected to the raster's CRS.
    threshold : float
        A cell counts as "above" when its value is strictly greater (e.g. flooded: depth > 0 m).

    Returns
    -------
    list of ZoneStats
        A cell belongs to a zone when its centre is inside (GDAL's rasterisation rule). Nodata
        cells are left out of every figure; ``share_above`` is cells above / valid cells, and
        ``area_km2_above`` assumes a projected CRS in metres.
    """
    # The whole band and whole-grid masks: the hazard rasters are small (about 1 M cells), and a
    # window cut from the zone's bounds could lose an edge cell to floating-point rounding.
    data = dataset.read(1, masked=True)
    valid = ~np.ma.getmaskarray(data)
    values_all = data.data.astype(np.float64)
    cell_km2 = abs(dataset.transform.a * dataset.transform.e) / 1e6
    out = []
    for key, geometry in zones:
        geom = transform_geom(zones_crs, dataset.crs, geometry) if zones_crs != dataset.crs else geometry
        inside = geometry_mask([geom], out_shape=data.shape, transform=dataset.transform, invert=True)
        values = values_all[inside & valid]
        if values.size == 0:
            out.append(ZoneStats(key, 0, None, None, None, 0, None, 0.0))
            continue
        above = int((values > threshold).sum())
        out.append(
            ZoneStats(
                key=key,
                cells=int(values.size),
                min=float(values.min()),
                max=float(values.max()),
                mean=float(values.mean()),
                cells_above=above,
                share_above=above / values.size,
                area_km2_above=above * cell_km2,
            )
        )
    return out


# --- the catalogue ----------------------------------------------------------------------


async def list_rasters(conn: AsyncConnection) -> list[dict]:
    """Every registered raster with its footprint bounds (lon/lat) and tile URL template."""
    return [_public(row) for row in await fetch_all(conn, "disasters/rasters", {"name": None})]


async def get_raster(conn: AsyncConnection, *, name: str, settings: Settings) -> dict:
    """One registered raster with the absolute path of its file; ``NotFound`` if unknown or missing."""
    row = await fetch_one(
        conn, "disasters/rasters", {"name": name}, missing=f"no raster named {name!r}; GET /api/rasters lists them"
    )
    path = raster_dir(settings) / row["path"]
    if not path.exists():
        raise NotFound(f"raster {name!r} is registered but {path} is missing: run `huegis load --only rasters --force`")
    return {**_public(row), "file": path}


def _public(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k != "path"}
    out["tiles"] = f"/tiles/raster/{row['name']}/{{z}}/{{x}}/{{y}}.png"
    return out


async def ward_zonal_stats(conn: AsyncConnection, *, raster: dict, threshold: float) -> list[dict]:
    """Zonal statistics of a registered raster for each of the 40 wards/communes (see :func:`zonal_stats`).

    Values are in the raster's units (``raster["units"]``); areas in km² in EPSG:32648.
    """
    if not np.isfinite(threshold):
        raise InvalidInput(f"threshold={threshold} is not a finite number")
    wards = await fetch_all(conn, "disasters/ward_shapes")
    by_code = {w["code"]: w for w in wards}
    with rasterio.Env(), rasterio.open(raster["file"]) as dataset:
        stats = zonal_stats(dataset, ((w["code"], w["geometry"]) for w in wards), threshold=threshold)
    return [
        {
            "ward_code": s.key,
            "ward_name": by_code[s.key]["name"],
            "population": by_code[s.key]["population"],
            "cells": s.cells,
            "min": s.min,
            "max": s.max,
            "mean": s.mean,
            "cells_above": s.cells_above,
            "share_above": s.share_above,
            "area_km2_above": round(s.area_km2_above, 4),
        }
        for s in stats
    ]
