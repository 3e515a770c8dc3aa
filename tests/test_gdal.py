"""GDAL's OGC API Features driver (gdal-bin) reads every collection completely."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from geo.registry import LAYERS


@pytest.mark.parametrize("layer_id", [spec.id for spec in LAYERS])
def test_ogr_reads_every_feature(server: str, db: psycopg.Connection, tmp_path: Path, layer_id: str) -> None:
    info = subprocess.run(
        ["ogrinfo", "-so", "-oo", "PAGE_SIZE=1000", f"OAPIF:{server}/ogc", layer_id],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert f"Layer name: {layer_id}" in info.stdout
    out = tmp_path / f"{layer_id}.geojson"
    subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", str(out), "-oo", "PAGE_SIZE=1000", f"OAPIF:{server}/ogc", layer_id],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    features = json.loads(out.read_text())["features"]
    row = db.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(layer_id))).fetchone()
    assert row is not None
    assert len(features) == row[0]
