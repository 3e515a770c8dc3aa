"""Hazard rasters: COG files, catalogue, zonal statistics against numpy, PNG tiles and 404 outside."""

from __future__ import annotations

import struct

import httpx
import numpy as np
import psycopg
import pytest
import rasterio
from affine import Affine
from rasterio.features import rasterize
from rasterio.io import MemoryFile
from rasterio.warp import transform_geom

from geo.rasters import raster_dir, zonal_stats
from geo.settings import Settings

RASTERS = ("flood_depth_rp5", "flood_depth_rp20", "flood_depth_rp100", "storm_density")


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def test_catalogue_lists_cogs_that_exist(client: httpx.Client, loaded: Settings, db: psycopg.Connection) -> None:
    body = client.get("/api/rasters").json()
    assert sorted(r["name"] for r in body) == sorted(RASTERS)
    for row in body:
        assert "path" not in row and row["tiles"] == f"/tiles/raster/{row['name']}/{{z}}/{{x}}/{{y}}.png"
        path = db.execute("SELECT path FROM rasters WHERE name = %s", (row["name"],)).fetchone()
        with rasterio.open(raster_dir(loaded) / path[0]) as src:  # type: ignore[index]
            assert (src.width, src.height) == (row["width"], row["height"])
            assert src.crs.to_epsg() == 32648
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.overviews(1) or max(src.width, src.height) <= 512, "a large COG carries overviews"
            assert src.block_shapes[0] == (256, 256) or src.width <= 256


def _memory_raster(values: np.ndarray, transform: Affine, nodata: float) -> MemoryFile:
    memfile = MemoryFile()
    with memfile.open(
        driver="GTiff", width=values.shape[1], height=values.shape[0], count=1, dtype=values.dtype.name,
        crs="EPSG:32648", transform=transform, nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(values, 1)
    return memfile


def test_zonal_stats_match_numpy_on_an_in_memory_raster() -> None:
    rng = np.random.default_rng(5)
    values = rng.uniform(0, 3, (60, 80)).astype(np.float32)
    values[values < 0.5] = 0.0
    values[5:8, 10:14] = -9999.0  # nodata inside the zone
    transform = Affine(100, 0, 750_000, 0, -100, 1_820_000)
    rect = {  # cell edges: rows 2..29, cols 5..39
        "type": "Polygon",
        "coordinates": [[(750_500, 1_819_800), (754_000, 1_819_800), (754_000, 1_817_000), (750_500, 1_817_000),
                         (750_500, 1_819_800)]],
    }  # fmt: skip
    triangle = {"type": "Polygon", "coordinates": [[(752_000, 1_819_000), (757_000, 1_816_000),
                                                    (751_000, 1_815_000), (752_000, 1_819_000)]]}  # fmt: skip
    outside = {"type": "Polygon", "coordinates": [[(0, 0), (10, 0), (10, 10), (0, 0)]]}
    with _memory_raster(values, transform, -9999.0) as memfile, memfile.open() as src:
        stats = {s.key: s for s in zonal_stats(src, [("rect", rect), ("tri", triangle), ("out", outside)],
                                                  zones_crs="EPSG:32648", threshold=1.0)}  # fmt: skip
    block = values[2:30, 5:40]
    block = block[block != -9999.0].astype(np.float64)
    rect_stats = stats["rect"]
    assert rect_stats.cells == block.size
    assert rect_stats.min == pytest.approx(block.min())
    assert rect_stats.max == pytest.approx(block.max())
    assert rect_stats.mean == pytest.approx(block.mean())
    assert rect_stats.cells_above == int((block > 1.0).sum())
    assert rect_stats.share_above == pytest.approx((block > 1.0).mean())
    assert rect_stats.area_km2_above == pytest.approx((block > 1.0).sum() * 0.01)
    inside = rasterize([triangle], out_shape=values.shape, transform=transform, fill=0, default_value=1).astype(bool)
    tri = values[inside & (values != -9999.0)].astype(np.float64)
    assert stats["tri"].cells == tri.size and stats["tri"].mean == pytest.approx(tri.mean())
    assert stats["tri"].max == pytest.approx(tri.max())
    assert stats["out"].cells == 0 and stats["out"].mean is None


def test_ward_zonal_stats_match_numpy_on_the_flood_raster(
    client: httpx.Client, loaded: Settings, db: psycopg.Connection
) -> None:
    response = client.get("/api/rasters/flood_depth_rp100/zonal-stats", params={"threshold": 0.0})
    assert response.status_code == 200
    wards = {w["ward_code"]: w for w in response.json()["wards"]}
    assert len(wards) == 40
    shapes = db.execute("SELECT code, ST_AsGeoJSON(geom)::json FROM admin_units WHERE level <> 'city'").fetchall()
    with rasterio.open(raster_dir(loaded) / "flood_depth_rp100.tif") as src:
        depth = src.read(1)
        transform, nodata = src.transform, src.nodata
    flooded_somewhere = 0
    for code, geometry in shapes:
        projected = transform_geom("EPSG:4326", "EPSG:32648", geometry)
        mask = rasterize([projected], out_shape=depth.shape, transform=transform, fill=0, default_value=1).astype(bool)
        cells = depth[mask & (depth != nodata)].astype(np.float64)
        ours = wards[code]
        assert ours["cells"] == cells.size, code
        if cells.size:
            assert ours["max"] == pytest.approx(cells.max()), code
            assert ours["mean"] == pytest.approx(cells.mean()), code
            assert ours["share_above"] == pytest.approx((cells > 0).mean()), code
        flooded_somewhere += int(ours["cells_above"] > 0)
    assert flooded_somewhere >= 5, "a 100-year flood reaches several wards"
    assert client.get("/api/rasters/no_such/zonal-stats").status_code == 404


@pytest.mark.parametrize("name", RASTERS)
def test_tile_is_a_png_of_the_right_size(client: httpx.Client, name: str) -> None:
    # z10 tile over the city centre (107.58 E, 16.46 N).
    response = client.get(f"/tiles/raster/{name}/10/818/464.png")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert png_size(response.content) == (256, 256)
    big = client.get(f"/tiles/raster/{name}/10/818/464.png", params={"tilesize": 512})
    assert png_size(big.content) == (512, 512)


def test_tiles_outside_the_raster_are_404(client: httpx.Client) -> None:
    assert client.get("/tiles/raster/flood_depth_rp100/10/0/0.png").status_code == 404
    assert client.get("/tiles/raster/storm_density/12/0/4095.png").status_code == 404
    # Not a tile at all: the same 400 as a vector tile (tiles/grid.py), not a 404.
    assert client.get("/tiles/raster/flood_depth_rp100/3/9/0.png").status_code == 400  # x beyond the zoom level
    assert client.get("/tiles/admin_units/3/9/0.mvt").status_code == 400
    assert client.get("/tiles/raster/no_such_raster/10/818/464.png").status_code == 404
    assert client.get("/tiles/raster/flood_depth_rp100/10/818/464.png", params={"tilesize": 300}).status_code == 400


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # a PNG has no georeference
def test_flood_tile_shows_water_and_transparency(client: httpx.Client) -> None:
    """The tile over the Tam Giang lagoon's shore has flooded (coloured) and dry/no-data (transparent) pixels."""
    content = client.get("/tiles/raster/flood_depth_rp100/11/1635/928.png").content
    with MemoryFile(content) as memfile, memfile.open() as png:
        alpha = png.read(png.count)
    assert png.count == 4
    assert (alpha == 0).any() and (alpha == 255).any()
