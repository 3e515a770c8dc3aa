"""Tile archives for a CDN: every tile of some tilesets, z ``minzoom``-``maxzoom``, in one PMTiles file.

For layers that change rarely (the basemap, admin units, planning zones): the archive goes on any
static host, and MapLibre reads it with HTTP range requests (the ``pmtiles://`` protocol of the
vendored ``pmtiles`` script, ``api/web/static/pmtiles-protocol.js``). Tiles are rendered by the
same SQL as ``/tiles`` (``tiles.vector.render_tile``); several tilesets are merged into one tile
per position (MVT layers concatenate), gzip-compressed as PMTiles viewers expect. The writer is
the PyPI ``pmtiles`` package.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from psycopg import AsyncConnection

from tiles.grid import MAX_ZOOM, MIN_ZOOM, TMS
from tiles.metadata import tilejson
from tiles.vector import Tileset, render_tile


@dataclass(frozen=True)
class ArchiveSummary:
    """What an export wrote."""

    path: Path
    tiles: int  # positions with data
    empty: int  # positions with no feature (not stored)
    size_bytes: int


def tile_positions(bounds: tuple[float, float, float, float], minzoom: int, maxzoom: int) -> list[tuple[int, int, int]]:
    """Every (z, x, y) covering ``bounds`` (lon/lat) from ``minzoom`` to ``maxzoom``, in PMTiles order."""
    if not MIN_ZOOM <= minzoom <= maxzoom <= MAX_ZOOM:
        raise ValueError(f"zooms must satisfy {MIN_ZOOM} <= minzoom <= maxzoom <= {MAX_ZOOM}, got {minzoom}-{maxzoom}")
    positions = [(t.z, t.x, t.y) for t in TMS.tiles(*bounds, zooms=list(range(minzoom, maxzoom + 1)))]
    return sorted(positions, key=lambda zxy: zxy_to_tileid(*zxy))


async def export_pmtiles(conn: AsyncConnection, tilesets: Sequence[Tileset], path: Path, *, minzoom: int,
                         maxzoom: int, progress: Callable[[int], None] | None = None) -> ArchiveSummary:  # fmt: skip
    """Render every tile of ``tilesets`` over their bounds into a PMTiles v3 archive at ``path``."""
    if not tilesets:
        raise ValueError("name at least one layer (or the basemap)")
    names = [layer.id for tileset in tilesets for layer in tileset.layers]
    if clash := sorted({name for name in names if names.count(name) > 1}):
        # A tile must not hold two MVT layers of one name (the basemap already carries admin_units).
        raise ValueError(f"MVT layer {', '.join(clash)} would appear twice in a tile: export those tilesets apart")
    west = min(t.bounds[0] for t in tilesets)
    south = min(t.bounds[1] for t in tilesets)
    east = max(t.bounds[2] for t in tilesets)
    north = max(t.bounds[3] for t in tilesets)
    positions = tile_positions((west, south, east, north), minzoom, maxzoom)
    stored = empty = 0
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        writer = Writer(out)
        for z, x, y in positions:
            content = b"".join([await render_tile(conn, tileset, z, x, y) for tileset in tilesets])
            if content:
                writer.write_tile(zxy_to_tileid(z, x, y), gzip.compress(content, mtime=0))
                stored += 1
            else:
                empty += 1
            if progress:
                progress(1)
        if not stored:
            raise ValueError(
                f"no feature of {', '.join(t.id for t in tilesets)} at z{minzoom}-{maxzoom}: nothing to write"
            )
        e7 = lambda degrees: round(degrees * 10_000_000)  # noqa: E731
        header = {
            "tile_type": TileType.MVT,
            "tile_compression": Compression.GZIP,
            "min_lon_e7": e7(west), "min_lat_e7": e7(south), "max_lon_e7": e7(east), "max_lat_e7": e7(north),
            "center_zoom": min(max(minzoom, 11), maxzoom),
            "center_lon_e7": e7((west + east) / 2), "center_lat_e7": e7((south + north) / 2),
        }  # fmt: skip
        writer.finalize(header, _metadata(tilesets, minzoom, maxzoom))
    partial.replace(path)  # never a half-written archive under the real name
    return ArchiveSummary(path, stored, empty, path.stat().st_size)


def _metadata(tilesets: Sequence[Tileset], minzoom: int, maxzoom: int) -> dict:
    """TileJSON-like metadata: name, attribution and the vector layers MapLibre styles refer to."""
    layers = [layer | {"minzoom": minzoom, "maxzoom": maxzoom}
              for tileset in tilesets for layer in tilejson(tileset, "")["vector_layers"]]  # fmt: skip
    return {
        "name": "+".join(t.id for t in tilesets),
        "description": "; ".join(t.description for t in tilesets),
        "attribution": "; ".join(dict.fromkeys(t.attribution for t in tilesets)),
        "type": "overlay" if all(t.id != "basemap" for t in tilesets) else "baselayer",
        "format": "pbf",
        "vector_layers": layers,
        "generator": "huegis tiles export",
        "json": json.dumps({"vector_layers": layers}),
    }
