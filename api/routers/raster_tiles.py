"""Raster tiles of the hazard rasters: ``/tiles/raster/{name}/{z}/{x}/{y}.png``.

The catalogue row is looked up on the async pool and released at once; the tile is rendered by
:mod:`tiles.raster` in a plain ``def`` handler (FastAPI's thread pool) inside ``rasterio.Env()``.
"""

from __future__ import annotations

from typing import Annotated, Any

import rasterio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.deps import PoolDep, SettingsDep
from geo.rasters import get_raster
from tiles.raster import TILE_SIZES, render_raster_tile

router = APIRouter(prefix="/tiles/raster", tags=["rasters"])


async def registered_raster(name: str, pool: PoolDep, settings: SettingsDep) -> dict[str, Any]:
    """The catalogue row of raster ``name`` (404 when unknown or its file is missing)."""
    async with pool.connection() as conn:
        return await get_raster(conn, name=name, settings=settings)


@router.get(
    "/{name}/{z}/{x}/{y}.png",
    summary="A PNG tile of a hazard raster (colormap; transparent where no hazard or no data)",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}},
        400: {"description": "not a WebMercatorQuad tile, or an unsupported tile size"},
        404: {"description": "unknown raster, a zoom beyond those served, or a tile outside the raster"},
    },
)
def raster_tile(
    raster: Annotated[dict[str, Any], Depends(registered_raster)],
    z: int,
    x: int,
    y: int,
    tilesize: Annotated[int, Query(description=f"Tile size in pixels: one of {TILE_SIZES}")] = 256,
) -> Response:
    """One WebMercatorQuad tile; values from the raster's min to max spread over its colormap."""
    with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"):
        png = render_raster_tile(
            raster["file"],
            name=raster["name"],
            z=z,
            x=x,
            y=y,
            vmin=raster["min_value"],
            vmax=raster["max_value"],
            colormap_name=raster["colormap"],
            tilesize=tilesize,
        )
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=3600"})
