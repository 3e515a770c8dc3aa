"""Extend the shipped sea beyond the GSHHG clip with Natural Earth's open sea, so maps show no edge.

The GSHHG sea in ``hue_bien_dam_pha_gshhg.geojson`` was clipped to a frame ending in open water at
108.3° E and 16.8° N: every map drew the sea ending there in a straight line. Beyond that frame the
sea is taken from Natural Earth's 1:10m land (public domain; npm ``world-atlas`` 2.0.2,
``land-10m.json``) over a region wider than any map page lets one see, simplified to about 200 m
(it lies outside the city). Inside the frame nothing changes; rerunning it gives the same sea.

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    ogr2ogr -f GeoJSON -makevalid land-10m.geojson package/land-10m.json land
    .venv/bin/python layers/data/water/open_sea.py land-10m.geojson
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import box

WATER = Path(__file__).with_name("hue_bien_dam_pha_gshhg.geojson")
FRAME = (107.0, 15.958737, 108.3, 16.8)  # the GSHHG clip: its sea reaches 108.3° E and 16.8° N in open water
REGION = (98.0, 6.0, 118.0, 26.0)  # the open sea drawn: the pages' maxBounds lie inside it
TOLERANCE_DEG = 0.002  # ~200 m, Natural Earth 1:10m's own accuracy


def main(land_file: str) -> None:
    land = shapely.make_valid(gpd.read_file(land_file).geometry.union_all()).intersection(box(*REGION))
    beyond = box(*REGION).difference(land).difference(box(*FRAME)).simplify(TOLERANCE_DEG)
    doc = json.loads(WATER.read_text(encoding="utf-8"))
    sea = next(f for f in doc["features"] if f["properties"]["loai"] == "bien")
    gshhg = shapely.geometry.shape(sea["geometry"]).intersection(box(*FRAME))
    merged = shapely.transform(shapely.union(gshhg, beyond), lambda xy: xy.round(6))
    polygons = [part for part in shapely.get_parts(merged) if part.geom_type == "Polygon"]  # not the frame's seams
    sea["geometry"] = shapely.geometry.mapping(shapely.geometry.MultiPolygon(polygons))
    WATER.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
