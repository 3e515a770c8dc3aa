"""Storm exposure of Huế's wards and a storm-passage density grid, from the real JTWC best tracks.

The tracks are the 6-hourly JTWC best-track fixes of the 222 storms that passed within 300 km
of the city (``hazard/bao_jtwc_qua_hue_300km_1945_2021_diem.csv``). Between two fixes a storm
is taken to move in a straight line, so a "passage within r km" is a track segment within r km
of the ward (or grid cell). All distances are measured in metres in EPSG:32648 (UTM 48N): near
Huế its scale error is below 0.1 %, and about 0.6 % at the edge of the 400 km density grid.

Intensity is the JTWC 1-minute maximum sustained wind of the storm while it was within r km
(a segment counts with the larger wind of its two fixes): any storm, at least tropical-storm
strength (>= 34 kt, "bão" in Vietnamese usage) and typhoon strength (>= 64 kt).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from numpy.typing import NDArray

from layers.synth.context import lonlat_to_utm, to_utm, to_wgs84

STORM_POINTS_FILE = Path(__file__).resolve().parent / "data" / "hazard" / "bao_jtwc_qua_hue_300km_1945_2021_diem.csv"
UTM48N = "EPSG:32648"

RECORD = (1945, 2021)  # the years the shipped track file covers
RADII_KM = (50, 100, 300)
TS_KT = 34.0  # tropical storm (Beaufort 8) and stronger
TY_KT = 64.0  # typhoon (Beaufort 12) and stronger
HUE_LONLAT = (107.585, 16.463)  # Trường Tiền bridge: the centre of the density grid
# Fixes further than this from Huế cannot belong to a segment that passes within 400 km of it
# (a 6-hour step is at most ~400 km), and projecting them to UTM 48N would distort wildly.
NEAR_KM = 1500.0

DENSITY_RADIUS_KM = 50
DENSITY_HALF_WIDTH_KM = 400
DENSITY_CELL_KM = 5


def read_storm_points(path: Path = STORM_POINTS_FILE) -> pd.DataFrame:
    """The 6-hourly best-track fixes: storm id, year, time (UTC), lon, lat, wind in kt (NaN if unknown)."""
    raw = pd.read_csv(path)
    return pd.DataFrame(
        {
            "storm_id": raw["SN"].astype(int),
            # SN is <year><number>: the storm's season, even for a fix after New Year.
            "year": (raw["SN"] // 100).astype(int),
            "time": pd.to_datetime(raw[["Year", "Month", "Day", "Hour"]], utc=True),
            "lon": raw["Lon"].astype(float),
            "lat": raw["Lat"].astype(float),
            "wind_kt": raw["VMax"].where(raw["VMax"] >= 0).astype(float),  # -999 marks a missing value
        }
    ).sort_values(["storm_id", "time"], ignore_index=True)


def _haversine_km(lon: NDArray[np.float64], lat: NDArray[np.float64], lon0: float, lat0: float) -> NDArray[np.float64]:
    lam, phi, lam0, phi0 = np.radians(lon), np.radians(lat), np.radians(lon0), np.radians(lat0)
    a = np.sin((phi - phi0) / 2) ** 2 + np.cos(phi) * np.cos(phi0) * np.sin((lam - lam0) / 2) ** 2
    return 6371.0088 * 2 * np.arcsin(np.sqrt(a))


def track_segments(points: pd.DataFrame) -> gpd.GeoDataFrame:
    """Straight segments between consecutive fixes of each storm near Huế, in EPSG:32648 metres.

    Columns: ``storm_id``, ``year``, ``wind_kt`` (the larger wind of the two fixes; NaN if both
    are unknown) and the segment geometry.
    """
    pts = points.assign(near=_haversine_km(points["lon"].values, points["lat"].values, *HUE_LONLAT) <= NEAR_KM)
    nxt = pts.groupby("storm_id").shift(-1)
    keep = pts["near"] & nxt["near"].fillna(False).astype(bool)
    start, end = pts[keep], nxt[keep]
    lines = shapely.linestrings(
        np.stack(
            [np.column_stack([start["lon"], start["lat"]]), np.column_stack([end["lon"], end["lat"]])],
            axis=1,
        )
    )
    wind = np.fmax(start["wind_kt"].to_numpy(), end["wind_kt"].to_numpy().astype(float))
    frame = pd.DataFrame({"storm_id": start["storm_id"].to_numpy(), "year": start["year"].to_numpy(), "wind_kt": wind})
    return gpd.GeoDataFrame(frame, geometry=to_utm(lines), crs=UTM48N)


def _storms_within(zones_utm: NDArray, segments: gpd.GeoDataFrame, radius_m: float) -> pd.DataFrame:
    """One row per (zone, storm) that came within ``radius_m``, with the strongest wind while within."""
    tree = shapely.STRtree(segments.geometry.values)
    zone_idx, seg_idx = tree.query(zones_utm, predicate="dwithin", distance=radius_m)
    pairs = pd.DataFrame(
        {
            "zone": zone_idx,
            "storm_id": segments["storm_id"].to_numpy()[seg_idx],
            "year": segments["year"].to_numpy()[seg_idx],
            "wind_kt": segments["wind_kt"].to_numpy()[seg_idx],
        }
    )
    return pairs.groupby(["zone", "storm_id", "year"], as_index=False)["wind_kt"].max()


def _periods() -> list[tuple[str, int | None, int, int]]:
    """(label, decade, first year, last year): the whole record, then each decade it touches."""
    first, last = RECORD
    out: list[tuple[str, int | None, int, int]] = [(f"{first}-{last}", None, first, last)]
    for decade in range(first // 10 * 10, last + 1, 10):
        out.append((f"{decade}s", decade, max(first, decade), min(last, decade + 9)))
    return out


def storm_exposure(wards: gpd.GeoDataFrame, segments: gpd.GeoDataFrame) -> pd.DataFrame:
    """Storms that passed within 50, 100 and 300 km of each ward, per decade and over the record.

    Parameters
    ----------
    wards : GeoDataFrame
        Wards/communes in EPSG:4326 with ``code`` and ``name``.
    segments : GeoDataFrame
        Track segments from :func:`track_segments` (EPSG:32648, metres).

    Returns
    -------
    DataFrame
        One row per ward and period: ``ward_code``, ``ward_name``, ``period`` (``"1945-2021"`` or
        ``"1990s"``), ``decade`` (None for the whole record), ``years`` in the period, and
        ``storms_{r}km`` (any strength), ``storms_{r}km_ts`` (>= 34 kt) and ``storms_{r}km_ty``
        (>= 64 kt) for r in 50, 100, 300, plus ``max_wind_kt_100km`` (kt, None when no storm).
    """
    zones = to_utm(wards.geometry.values)
    per_radius = {radius: _storms_within(zones, segments, radius * 1000.0) for radius in RADII_KM}
    rows = []
    for i, ward in enumerate(wards.itertuples()):
        for label, decade, first, last in _periods():
            row: dict[str, object] = {
                "ward_code": ward.code,
                "ward_name": ward.name,
                "period": label,
                "decade": decade,
                "years": last - first + 1,
            }
            for radius, pairs in per_radius.items():
                mine = pairs[(pairs["zone"] == i) & pairs["year"].between(first, last)]
                row[f"storms_{radius}km"] = len(mine)
                row[f"storms_{radius}km_ts"] = int((mine["wind_kt"] >= TS_KT).sum())
                row[f"storms_{radius}km_ty"] = int((mine["wind_kt"] >= TY_KT).sum())
                if radius == 100:
                    strongest = mine["wind_kt"].max()
                    row["max_wind_kt_100km"] = None if pd.isna(strongest) else float(strongest)
            rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid in EPSG:32648: values, affine transform (metres), CRS."""

    values: NDArray
    transform: Affine
    crs: str = UTM48N

    @property
    def cell_centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """x and y (metres) of every cell centre, each shaped like ``values``."""
        rows, cols = np.indices(self.values.shape)
        x = self.transform.c + (cols + 0.5) * self.transform.a
        y = self.transform.f + (rows + 0.5) * self.transform.e
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def storm_density(segments: gpd.GeoDataFrame) -> Grid:
    """Number of storms (1945-2021) whose track passed within 50 km of each 5 km cell around Huế.

    The grid is centred on Huế and reaches 400 km each way (160 x 160 cells of 5 km, EPSG:32648);
    a storm is counted once per cell however many of its segments pass.
    """
    cx, cy = lonlat_to_utm(*HUE_LONLAT)
    half, cell = DENSITY_HALF_WIDTH_KM * 1000.0, DENSITY_CELL_KM * 1000.0
    left, top = round((cx - half) / cell) * cell, round((cy + half) / cell) * cell
    n = int(2 * half / cell)
    grid = Grid(np.zeros((n, n), dtype=np.float32), Affine(cell, 0, left, 0, -cell, top))
    x, y = grid.cell_centres
    centres = shapely.points(x.ravel(), y.ravel())
    tree = shapely.STRtree(segments.geometry.values)
    cell_idx, seg_idx = tree.query(centres, predicate="dwithin", distance=DENSITY_RADIUS_KM * 1000.0)
    pairs = np.unique(np.column_stack([cell_idx, segments["storm_id"].to_numpy()[seg_idx]]), axis=0)
    counts = np.bincount(pairs[:, 0], minlength=n * n).reshape(n, n)
    return Grid(counts.astype(np.float32), grid.transform)


def simplified_wgs84(geoms_wgs84: NDArray, tolerance_m: float) -> list[shapely.MultiPolygon]:
    """Polygons simplified in EPSG:32648 by ``tolerance_m`` metres, back in EPSG:4326 as valid MultiPolygons."""
    simple = to_wgs84(shapely.simplify(to_utm(geoms_wgs84), tolerance_m, preserve_topology=True))
    out = []
    for geom in shapely.make_valid(simple):
        parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon"]
        if not parts:  # a GeometryCollection can nest its polygons one level deeper
            parts = [
                p for g in getattr(geom, "geoms", []) for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"
            ]
        out.append(shapely.MultiPolygon(parts))
    return out
