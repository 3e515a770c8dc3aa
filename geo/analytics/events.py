"""Point events for the hot-spot analyses: read from any city's CSV or from Huế's reports, placed in a study area.

A CSV needs the columns ``id, created_at, category, lat, lon`` (any order and case, extra columns
ignored); times are ISO 8601 (with an offset, or local times in ``tz``). Rows without a time or
with missing or impossible coordinates are skipped and counted, never guessed. The metric CRS is
the UTM zone of the events' centroid; the study area is a given boundary or the events' convex hull.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geo.analytics.grid import utm_epsg
from geo.errors import InvalidInput

REQUIRED_COLUMNS = ("id", "created_at", "category", "lat", "lon")
_AWARE = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
# Without a boundary, a point this many times farther from the median centre than the median
# point is a stray (a geocoder default, swapped coordinates) and would blow up the hull.
OUTLIER_FACTOR = 20.0
OUTLIER_MIN_M = 5_000.0


@dataclass
class RawEvents:
    """Events as read, in EPSG:4326 with UTC times, and what reading them skipped."""

    ids: NDArray[np.object_]
    times: pd.DatetimeIndex
    category: NDArray[np.object_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    tz: str
    source: str
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, keep: NDArray[np.bool_], *, what: str = "selected") -> RawEvents:
        """The events where ``keep`` is true; InvalidInput when none is."""
        if not keep.any():
            raise InvalidInput(f"no events {what} among the {len(self)} read")
        counts = {**self.counts, "read": int(keep.sum()), "filtered_out": int((~keep).sum())}
        return RawEvents(ids=self.ids[keep], times=self.times[keep], category=self.category[keep], lon=self.lon[keep],
                         lat=self.lat[keep], tz=self.tz, source=self.source, counts=counts)  # fmt: skip


@dataclass
class EventSet:
    """Events in a study area, in metres of a local metric CRS.

    Attributes
    ----------
    x, y : ndarray
        Metres in ``epsg`` (a UTM zone).
    times : DatetimeIndex
        UTC instants.
    area : shapely geometry
        The study area in ``epsg`` metres (the boundary, or the events' convex hull).
    counts : dict
        Rows read, skipped (and why) and used.
    """

    ids: NDArray[np.object_]
    times: pd.DatetimeIndex
    category: NDArray[np.object_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    epsg: int
    area: BaseGeometry
    area_source: str
    tz: str
    source: str
    counts: dict[str, int] = field(default_factory=dict)
    raw: RawEvents | None = field(default=None, repr=False)  # as read, to redo the placement (see refit_area)
    boundary: BaseGeometry | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def refit_area(self, until: pd.Timestamp) -> EventSet:
        """The same events placed with the stray filter and the convex hull of the events before ``until`` only.

        A backtest calls it so that no scored event shapes the study area; with a boundary, or
        without the raw events, the events are returned unchanged.
        """
        if self.boundary is not None or self.raw is None:
            return self
        return place_events(self.raw, epsg=self.epsg, fit_until=until)

    def subset(self, keep: NDArray[np.bool_]) -> EventSet:
        """The events where ``keep`` is true (same study area and CRS)."""
        return EventSet(
            ids=self.ids[keep],
            times=self.times[keep],
            category=self.category[keep],
            lon=self.lon[keep],
            lat=self.lat[keep],
            x=self.x[keep],
            y=self.y[keep],
            epsg=self.epsg,
            area=self.area,
            area_source=self.area_source,
            tz=self.tz,
            source=self.source,
            counts=dict(self.counts),
            boundary=self.boundary,
        )


def check_tz(tz: str) -> str:
    """``tz`` if it is an IANA time zone name; InvalidInput naming it otherwise."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {tz!r} (use an IANA name such as UTC or America/Chicago)") from None
    return tz


def read_events_csv(source: str | Path | bytes, *, tz: str = "UTC", skip_bad_dates: bool = False) -> RawEvents:
    """Read point events from a CSV with columns ``id, created_at, category, lat, lon``.

    Parameters
    ----------
    source : path or bytes
        The CSV (UTF-8, a BOM is fine; comma- or semicolon-separated).
    tz : str
        IANA zone of times written without an offset; times with an offset keep it.
    skip_bad_dates : bool
        Skip and count rows whose ``created_at`` does not parse instead of refusing the file.

    Returns
    -------
    RawEvents
        EPSG:4326 degrees, UTC instants; ``counts`` has ``rows``, ``skipped_missing_time``,
        ``skipped_bad_time``, ``skipped_bad_coordinates``, ``skipped_duplicate_id`` and ``read``.
    """
    check_tz(tz)
    name = str(source) if isinstance(source, str | Path) else "upload"
    frame = _read_table(source)
    return _parse_events(frame, tz=tz, skip_bad_dates=skip_bad_dates, source=name)


def _read_table(source: str | Path | bytes) -> pd.DataFrame:
    """The five required columns as strings; InvalidInput naming what is missing or unreadable."""
    data = source if isinstance(source, bytes) else _read_bytes(Path(source))
    if not data.strip():
        raise InvalidInput("the CSV is empty: no header, no rows")
    for sep in (",", ";", "\t"):
        try:
            header = pd.read_csv(io.BytesIO(data), sep=sep, nrows=0, encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise InvalidInput(f"cannot read the CSV: {exc}") from None
        if len(header.columns) > 1:
            break
    names = {str(c).strip().lower(): c for c in header.columns}
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        present = ", ".join(str(c) for c in header.columns) or "none"
        raise InvalidInput(
            f"the CSV lacks the column(s) {', '.join(missing)}; it has: {present}; "
            f"required: {', '.join(REQUIRED_COLUMNS)}"
        )
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=sep,
            usecols=[names[c] for c in REQUIRED_COLUMNS],
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"cannot read the CSV: {exc}") from None
    return frame.rename(columns={names[c]: c for c in REQUIRED_COLUMNS})


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None


def _parse_events(frame: pd.DataFrame, *, tz: str, skip_bad_dates: bool, source: str) -> RawEvents:
    """Typed events from the string table; skipped rows counted by reason."""
    rows = len(frame)
    if rows == 0:
        raise InvalidInput("the CSV has a header but no rows")
    text = frame["created_at"].astype(str).str.strip()
    missing_time = (text == "").to_numpy()
    times = parse_times(text, tz)
    bad_time = times.isna().to_numpy() & ~missing_time
    if bad_time.any() and not skip_bad_dates:
        first = int(np.argmax(bad_time))
        raise InvalidInput(
            f"created_at is not an ISO 8601 time in {int(bad_time.sum())} of {rows} rows, e.g. line {first + 2}: "
            f"{text.iloc[first]!r} (expected e.g. 2024-03-01T08:15:00+07:00)"
        )
    lat = pd.to_numeric(frame["lat"].astype(str).str.strip(), errors="coerce").to_numpy(float)
    lon = pd.to_numeric(frame["lon"].astype(str).str.strip(), errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        bad_xy = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    bad_xy |= (lat == 0) & (lon == 0)  # "null island": a missing position written as zeros
    keep = ~missing_time & ~bad_time & ~bad_xy
    ids = frame["id"].astype(str).str.strip().to_numpy(dtype=object)
    duplicate = pd.Series(ids).duplicated().to_numpy() & (ids != "") & keep
    keep &= ~duplicate
    counts = {
        "rows": rows,
        "skipped_missing_time": int(missing_time.sum()),
        "skipped_bad_time": int(bad_time.sum()),
        "skipped_bad_coordinates": int((bad_xy & ~missing_time & ~bad_time).sum()),
        "skipped_duplicate_id": int(duplicate.sum()),
    }
    counts["read"] = int(keep.sum())
    if counts["read"] == 0:
        reasons = ", ".join(
            f"{v} {k.removeprefix('skipped_').replace('_', ' ')}"
            for k, v in counts.items()
            if k.startswith("skipped_") and v
        )
        raise InvalidInput(f"no usable rows: all {rows} rows were skipped ({reasons})")
    category = frame["category"].astype(str).str.strip().to_numpy(dtype=object)
    category[category == ""] = "unknown"
    return RawEvents(
        ids=ids[keep],
        times=pd.DatetimeIndex(times[keep]),
        category=category[keep],
        lon=lon[keep],
        lat=lat[keep],
        tz=tz,
        source=source,
        counts=counts,
    )


def parse_times(text: pd.Series, tz: str) -> pd.Series:
    """UTC instants from ISO 8601 strings; times without an offset are local times in ``tz`` (NaT: unparsable)."""
    text = text.astype(str).str.strip()
    aware = text.str.contains(_AWARE, regex=True) & text.str.contains(r"\d[T ]\d", regex=True)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
    naive = ~aware & (text != "")
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        if getattr(local.dt, "tz", None) is None:
            local = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        out[naive] = local.dt.tz_convert("UTC")
    return out


def read_boundary(path: str | Path) -> BaseGeometry:
    """The union of the polygons of a GeoJSON (or any OGR) file, in EPSG:4326."""
    import geopandas as gpd
    from pyogrio.errors import DataSourceError

    try:
        frame = gpd.read_file(path)
    except (DataSourceError, OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read the boundary {path}: {exc}") from None
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    polygons = frame.geometry[frame.geometry.geom_type.isin(("Polygon", "MultiPolygon"))]
    if polygons.empty:
        raise InvalidInput(f"the boundary {path} holds no polygon")
    area = shapely.make_valid(shapely.union_all(polygons.to_numpy()))
    if area.is_empty or area.area <= 0:
        raise InvalidInput(f"the boundary {path} has no area")
    return area


def to_metric(lon: NDArray[np.float64], lat: NDArray[np.float64], epsg: int) -> tuple[NDArray, NDArray]:
    """Project degrees to metres of ``epsg``."""
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    return np.asarray(x, float), np.asarray(y, float)


def geometry_to_metric(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    """Project an EPSG:4326 geometry to metres of ``epsg``."""
    forward = Transformer.from_crs(4326, epsg, always_xy=True)
    return shapely.transform(geom, lambda c: np.column_stack(forward.transform(c[:, 0], c[:, 1])))


def place_events(
    raw: RawEvents,
    *,
    boundary: BaseGeometry | None = None,
    epsg: int | None = None,
    boundary_name: str = "boundary",
    fit_until: pd.Timestamp | None = None,
) -> EventSet:
    """The events in their study area, in metres of the UTM zone of their centroid.

    Parameters
    ----------
    raw : RawEvents
        Events in EPSG:4326.
    boundary : shapely geometry, optional
        Study area in EPSG:4326; events outside it are dropped and counted. Without it, the
        study area is the convex hull of the events once strays far from the rest are dropped.
    epsg : int, optional
        Metric CRS to use instead of the UTM zone of the centroid.
    fit_until : Timestamp, optional
        Without a boundary, find strays and the hull from the events before this instant only
        (a backtest's training data); later events outside the hull are dropped and counted.
    """
    counts = dict(raw.counts)
    keep = np.ones(len(raw), dtype=bool)
    if boundary is not None:
        shapely.prepare(boundary)
        keep = shapely.intersects_xy(boundary, raw.lon, raw.lat)
        counts["skipped_outside_boundary"] = int((~keep).sum())
        if not keep.any():
            raise InvalidInput(f"none of the {len(raw)} events lies inside the {boundary_name}")
    else:
        train = np.ones(len(raw), dtype=bool) if fit_until is None else np.asarray(raw.times < fit_until)
        if not train.any():
            raise InvalidInput(f"no events before {fit_until} to draw the study area from")
        keep = ~_strays(raw.lon, raw.lat, train)
        counts["skipped_strays"] = int((~keep).sum())
    lon, lat = raw.lon[keep], raw.lat[keep]
    epsg = epsg or utm_epsg(float(np.mean(lon)), float(np.mean(lat)))
    x, y = to_metric(lon, lat, epsg)
    if boundary is not None:
        area = geometry_to_metric(boundary, epsg)
        area_source = boundary_name
    else:
        fit = np.ones(len(x), dtype=bool) if fit_until is None else np.asarray(raw.times[keep] < fit_until)
        points = shapely.multipoints(np.column_stack([x[fit], y[fit]]))
        area = shapely.convex_hull(points)
        area_source = "convex hull of the events" + ("" if fit_until is None else f" before {fit_until:%Y-%m-%d}")
        if fit_until is not None:
            shapely.prepare(area)
            inside = shapely.intersects_xy(area, x, y)
            counts["skipped_outside_training_hull"] = int((~inside).sum())
            keep[np.flatnonzero(keep)[~inside]] = False
            lon, lat, x, y = lon[inside], lat[inside], x[inside], y[inside]
        if area.area < 1.0:
            distinct = len(np.unique(np.column_stack([np.round(x, 3), np.round(y, 3)]), axis=0))
            if distinct == 1:
                raise InvalidInput(
                    f"all {len(x)} events are at the same point ({lat[0]:.6f}, {lon[0]:.6f}): "
                    "there is no area to analyse"
                )
            raise InvalidInput(f"the {len(x)} events lie on a line (their hull has no area): give a boundary")
    counts["used"] = len(x)
    return EventSet(
        ids=raw.ids[keep],
        times=raw.times[keep],
        category=raw.category[keep],
        lon=lon,
        lat=lat,
        x=x,
        y=y,
        epsg=epsg,
        area=area,
        area_source=area_source,
        tz=raw.tz,
        source=raw.source,
        counts=counts,
        raw=raw,
        boundary=boundary,
    )


def _strays(lon: NDArray[np.float64], lat: NDArray[np.float64], train: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Points far from the others (the centre and the typical distance from the ``train`` points only)."""
    lon0, lat0 = float(np.median(lon[train])), float(np.median(lat[train]))
    dx = (lon - lon0) * 111_320.0 * math.cos(math.radians(lat0))
    dy = (lat - lat0) * 110_540.0
    distance = np.hypot(dx, dy)
    limit = max(OUTLIER_FACTOR * float(np.median(distance[train])), OUTLIER_MIN_M)
    return distance > limit


def describe(events: EventSet) -> dict[str, Any]:
    """JSON-ready facts about the events and their study area."""
    return {
        "source": events.source,
        "crs": f"EPSG:{events.epsg}",
        "time_zone": events.tz,
        "study_area": events.area_source,
        "area_km2": round(events.area.area / 1e6, 3),
        "rows": events.counts,
        "first_event": events.times.min().isoformat() if len(events) else None,
        "last_event": events.times.max().isoformat() if len(events) else None,
    }
