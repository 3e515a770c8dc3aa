"""Raster tiles of the hazard rasters: ``/tiles/raster/{name}/{z}/{x}/{y}.png`` (rio-tiler, Web Mercator).

A thin web shell over :mod:`geo.rasters`: the catalogue row is looked up on the async pool and
released at once, then the tile is rendered in a plain ``def`` handler (FastAPI's thread pool)
inside ``rasterio.Env()``. rio-tiler's ``TileOutsideBounds`` becomes a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

import rasterio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from rio_tiler.errors import TileOutsideBounds

from api.deps import PoolDep, SettingsDep
from geo.errors import InvalidInput, NotFound
from geo.rasters import TILE_SIZES, get_raster, render_tile

router = APIRouter(prefix="/tiles/raster", tags=["rasters"])

MAX_ZOOM = 22


async def registered_raster(name: str, pool: PoolDep, settings: SettingsDep) -> dict[str, Any]:
    """The catalogue row of raster ``name`` (404 when unknown or its file is missing)."""
    async with pool.connection() as conn:
        return await get_raster(conn, name=name, settings=settings)


@router.get(
    "/{name}/{z}/{x}/{y}.png",
    summary="A PNG tile of a hazard raster (colormap; transparent where no hazard or no data)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "unknown raster, or tile outside it"}},
)
def raster_tile(
    raster: Annotated[dict[str, Any], Depends(registered_raster)],
    z: int,
    x: int,
    y: int,
    tilesize: Annotated[int, Query(description=f"Tile size in pixels: one of {TILE_SIZES}")] = 256,
) -> Response:
    """One WebMercatorQuad tile; values from the raster's min to max spread over its colormap."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(f"no tile {z}/{x}/{y} in WebMercatorQuad (zoom 0-{MAX_ZOOM})")
    if tilesize not in TILE_SIZES:
        raise InvalidInput(f"tilesize={tilesize}: use one of {TILE_SIZES}")
    vmax = raster["max_value"] if raster["max_value"] > raster["min_value"] else raster["min_value"] + 1
    try:
        with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"):
            png = render_tile(
                raster["file"],
                z=z,
                x=x,
                y=y,
                vmin=raster["min_value"],
                vmax=vmax,
                colormap_name=raster["colormap"],
                tilesize=tilesize,
            )
    except TileOutsideBounds:
        raise NotFound(f"tile {z}/{x}/{y} is outside raster {raster['name']!r}") from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=3600"})
