"""Tile archives for a CDN: ``huegis tiles export ... --format pmtiles`` and the basemap style reading one."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import mapbox_vector_tile
import pytest
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from geo.settings import PROJECT_DIR, Settings
from tiles.archive import tile_positions
from tiles.style import basemap_style
from tiles.vector import get_tileset


def huegis(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("huegis")
    env = {"PATH": "/usr/bin:/bin", "HUEGIS_DB_PORT": str(settings.db_port), "HUEGIS_DB_NAME": settings.db_name}
    return subprocess.run([str(cli), *args], env=env, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)


def test_export_writes_a_pmtiles_archive_of_the_layers(loaded: Settings, tmp_path: Path) -> None:
    out = tmp_path / "planning.pmtiles"
    done = huegis(loaded, "tiles", "export", "planning_zones", "schools", str(out), "--minzoom", "9", "--maxzoom", "11")
    assert done.returncode == 0, done.stderr
    assert "tiles with data" in done.stdout
    with out.open("rb") as fh:
        source = MmapSource(fh)
        reader = Reader(source)
        header = reader.header()
        assert header["tile_type"] == TileType.MVT
        assert header["tile_compression"] == Compression.GZIP
        assert (header["min_zoom"], header["max_zoom"]) == (9, 11)
        assert {layer["id"] for layer in reader.metadata()["vector_layers"]} == {"planning_zones", "schools"}
        tiles = list(all_tiles(source))
        layers = set()
        for (z, _x, _y), data in tiles:
            assert 9 <= z <= 11
            layers |= set(mapbox_vector_tile.decode(gzip.decompress(data)))
    assert layers == {"planning_zones", "schools"}  # both merged into the same tiles
    bounds = get_tileset("planning_zones").bounds
    assert len(tiles) <= len(tile_positions(bounds, 9, 11)) + len(tile_positions(get_tileset("schools").bounds, 9, 11))
    assert not out.with_name(out.name + ".partial").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown tileset 'nope'"),
        (["basemap", "admin_units"], "admin_units would appear twice"),
        (["schools", "--minzoom", "12", "--maxzoom", "9"], "is above --maxzoom"),
        (["schools", "--format", "mbtiles"], "Invalid value for '--format'"),
    ],
)
def test_export_refuses_bad_arguments(loaded: Settings, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "x.pmtiles"
    layers = [a for a in args if not a.startswith("--") and not a.isdigit() and a != "mbtiles"]
    options = args[len(layers) :]
    done = huegis(loaded, "tiles", "export", *layers, str(out), *options)
    assert done.returncode != 0
    assert message in " ".join((done.stdout + done.stderr).split())
    assert not out.exists()


def test_the_basemap_style_can_read_a_pmtiles_archive() -> None:
    style = basemap_style("http://app", "vi", pmtiles_url="https://cdn.example/hue-basemap.pmtiles")
    source = style["sources"]["basemap"]
    assert source["url"] == "pmtiles://https://cdn.example/hue-basemap.pmtiles"
    assert "tiles" not in source
    assert basemap_style("http://app", "vi")["sources"]["basemap"]["tiles"] == [
        "http://app/tiles/basemap/{z}/{x}/{y}.mvt"
    ]


def test_the_protocol_script_and_the_vendored_reader_are_served(client) -> None:
    script = client.get("/static/pmtiles-protocol.js")
    assert script.status_code == 200
    assert 'addProtocol("pmtiles"' in script.text
    vendored = client.get("/static/vendor/pmtiles/pmtiles.js")
    assert vendored.status_code == 200
    assert "Protocol" in vendored.text
