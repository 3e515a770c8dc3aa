"""Turn generated rows into GeoDataFrames shaped exactly like their target tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.synth.context import WGS84, SynthContext, to_wgs84

# Filled by the database, never by a generator.
SERVER_COLUMNS = ("id", "updated_at")


def layer_columns(model: Any) -> list[str]:
    """A table's columns in table order, less the ones the database fills (id, updated_at)."""
    return [c.name for c in model.__table__.columns if c.name not in SERVER_COLUMNS]


def as_multipolygons(geoms: Any) -> Any:
    """Valid MultiPolygons from polygonal geometries (repairs what reprojection may have bent)."""
    geoms = np.asarray(geoms, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
        if not parts:
            # make_valid may nest polygons in a collection: dig one level deeper.
            parts = [q for p in shapely.get_parts(geom) for q in shapely.get_parts(p) if q.geom_type == "Polygon"]
        out[i] = shapely.MultiPolygon(parts)
    return out


def to_frame(
    ctx: SynthContext,
    model: Any,
    records: Mapping[str, Sequence[Any] | np.ndarray | pd.Series],
    geoms_utm: Any,
    *,
    polygons: bool,
) -> gpd.GeoDataFrame:
    """Assemble a layer in EPSG:4326 from column values and UTM geometries."""
    geoms = to_wgs84(np.asarray(geoms_utm, dtype=object))
    if polygons:
        geoms = as_multipolygons(geoms)
    data: dict[str, Any] = dict(records)
    n = len(geoms)
    data["source"] = [ctx.source] * n
    data["synthetic"] = np.ones(n, dtype=bool)
    data["geom"] = gpd.GeoSeries(geoms, crs=WGS84)
    frame = gpd.GeoDataFrame(pd.DataFrame(data), geometry="geom", crs=WGS84)
    columns = layer_columns(model)
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        raise ValueError(f"{model.__tablename__}: generator left out columns {missing}")
    return frame[columns].reset_index(drop=True)
