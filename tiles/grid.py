"""The tile grid every tile answers in: WebMercatorQuad (morecantile), and which z/x/y are tiles.

One check for vector and raster tiles alike: a z/x/y that is not a tile of the grid is
``InvalidTile`` (400); a real tile beyond the zooms served is ``TileOutsideBounds`` (404).
"""

from __future__ import annotations

import morecantile

from geo.errors import InvalidInput, NotFound

TMS = morecantile.tms.get("WebMercatorQuad")
TMS_ID: str = TMS.id or "WebMercatorQuad"
MIN_ZOOM, MAX_ZOOM = 0, 22  # the zooms served; WebMercatorQuad itself goes to 24


class InvalidTile(InvalidInput):
    """z/x/y is not a tile of WebMercatorQuad (maps to 400)."""


class TileOutsideBounds(NotFound):
    """A tile beyond the zooms served, or outside the data it would show (maps to 404)."""


def check_tile(z: int, x: int, y: int) -> None:
    """Raise ``InvalidTile`` or ``TileOutsideBounds`` unless (z, x, y) is a tile we serve."""
    if not TMS.is_valid(morecantile.Tile(x, y, z)):
        if not TMS.minzoom <= z <= TMS.maxzoom:
            raise InvalidTile(f"zoom {z} is not a WebMercatorQuad tile matrix ({TMS.minzoom}-{TMS.maxzoom})")
        last = 2**z - 1
        raise InvalidTile(f"tile {z}/{x}/{y} does not exist: at zoom {z} x and y run from 0 to {last}")
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise TileOutsideBounds(f"zoom {z} is beyond the served zooms {MIN_ZOOM}-{MAX_ZOOM}")
