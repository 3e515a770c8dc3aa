"""PNG tiles of the hazard rasters (COG) with rio-tiler, in the same grid as the vector tiles.

Plain functions for a worker thread: call them inside ``rasterio.Env()``. No web imports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rio_tiler.errors import TileOutsideBounds as OutsideRaster

from geo.errors import InvalidInput
from tiles.grid import TileOutsideBounds, check_tile

TILE_SIZES = (256, 512)


def colormap(name: str) -> dict[int, tuple[int, int, int, int]]:
    """A 256-entry rio-tiler colormap whose entry 0 (no hazard) is transparent."""
    from rio_tiler.colormap import cmap

    colors: dict[int, tuple[int, int, int, int]] = {int(k): v for k, v in cmap.get(name).items()}  # type: ignore[union-attr]
    colors[0] = (0, 0, 0, 0)
    return colors


def render_raster_tile(
    path: Path,
    *,
    z: int,
    x: int,
    y: int,
    vmin: float,
    vmax: float,
    colormap_name: str,
    tilesize: int = 256,
    name: str = "",
) -> bytes:
    """One tile of band 1 as a PNG, values ``vmin..vmax`` spread over the colormap.

    Raises ``InvalidTile`` for a z/x/y that is not a tile, ``TileOutsideBounds`` when the tile is
    beyond the served zooms or misses the raster; nodata cells are transparent.
    """
    from rio_tiler.io import Reader

    check_tile(z, x, y)
    if tilesize not in TILE_SIZES:
        raise InvalidInput(f"tilesize={tilesize}: use one of {TILE_SIZES}")
    if vmax <= vmin:  # a constant raster: one colour above "no hazard"
        vmax = vmin + 1
    try:
        with Reader(str(path)) as src:
            image = src.tile(x, y, z, tilesize=tilesize)
    except OutsideRaster:
        raise TileOutsideBounds(f"tile {z}/{x}/{y} is outside raster {name or path.stem!r}") from None
    # Keep 0 (no hazard) at colour 0; anything above it starts at 1 so it is never transparent.
    data = image.array.astype(np.float64)
    scaled = np.where(data > vmin, 1 + (np.clip(data, vmin, vmax) - vmin) / (vmax - vmin) * 254, 0)
    image.array = np.ma.MaskedArray(scaled.astype(np.uint8), mask=np.ma.getmaskarray(image.array))
    return image.render(img_format="PNG", colormap=colormap(colormap_name))
