"""Other spatial analytics: the nearest facility, service coverage per ward, reports per 1,000 residents.

Distances are straight lines on the WGS 84 ellipsoid (PostGIS ``geography``), in metres: there is
no routable road network for the city (the ``roads`` layer holds only national and provincial
roads), so coverage is "within X metres as the crow flies", an upper bound of walking access.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from geo.db import fetch_all, load_sql
from geo.errors import InvalidInput

# Layers one can ask for the nearest feature of, and the column that holds each feature's type.
FACILITY_LAYERS = {"health_facilities": "facility_type", "schools": "school_level", "tourism_sites": "kind"}
COVERAGE_LAYERS = ("health_facilities", "schools")
MAX_RADIUS_M = 50_000.0
LAND_SPACING_M = 500.0
COVERAGE_METHOD = (
    "Straight-line (geodesic) distance from residents to the nearest facility. No population grid exists: each "
    "ward's population is spread evenly over its GeoNames populated places (places.group_name = 'dan_cu'); a ward "
    f"without any spreads it evenly over its land, as the centres of a {LAND_SPACING_M:g} m square grid off the "
    "sea and lagoons. A ward's share is the share of its points within the radius of a facility."
)


def _layer(layer: str, allowed: tuple[str, ...] | dict[str, str]) -> tuple[sql.Identifier, sql.Identifier]:
    if layer not in allowed:
        raise InvalidInput(f"layer must be one of {', '.join(allowed)}, got {layer!r}")
    return sql.Identifier(layer), sql.Identifier(FACILITY_LAYERS[layer])


async def _check_type(conn: AsyncConnection, layer: str, kind: str | None) -> None:
    """InvalidInput unless ``kind`` is a type the layer holds."""
    if kind is None:
        return
    query = sql.SQL("SELECT DISTINCT {} FROM {} ORDER BY 1").format(
        sql.Identifier(FACILITY_LAYERS[layer]), sql.Identifier(layer)
    )
    async with conn.cursor() as cur:
        await cur.execute(query)
        known = [r[0] for r in await cur.fetchall()]
    if kind not in known:
        raise InvalidInput(f"type {kind!r} is not in {layer}; types: {', '.join(map(str, known))}")


async def nearest(
    conn: AsyncConnection,
    *,
    lon: float,
    lat: float,
    layer: str = "health_facilities",
    kind: str | None = None,
    limit: int = 1,
) -> list[dict[str, Any]]:
    """The ``limit`` features of ``layer`` (of type ``kind``) nearest to a point, with geodesic distance in metres.

    Parameters
    ----------
    lon, lat : float
        The point, degrees (EPSG:4326).
    layer : str
        ``health_facilities``, ``schools`` or ``tourism_sites``.
    kind : str, optional
        Only features of this type (``facility_type``, ``school_level`` or ``kind``).
    limit : int
        How many (1-50), nearest first.
    """
    table, column = _layer(layer, FACILITY_LAYERS)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(f"lon/lat out of range: {lon}, {lat}")
    if not 1 <= limit <= 50:
        raise InvalidInput(f"limit must be between 1 and 50, got {limit}")
    await _check_type(conn, layer, kind)
    query = sql.SQL(load_sql("coverage/nearest")).format(layer=table, kind=column)
    params = {"lon": lon, "lat": lat, "type": kind, "limit": limit, "candidates": limit + 25}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def coverage_by_ward(
    conn: AsyncConnection, *, layer: str = "health_facilities", kind: str | None = None, radius_m: float = 1000.0
) -> dict[str, Any]:
    """Share of each ward's population within ``radius_m`` metres (straight line) of a facility.

    Parameters
    ----------
    layer : str
        ``health_facilities`` or ``schools``.
    kind : str, optional
        Only facilities of this type (e.g. ``health_station``, ``primary``).
    radius_m : float
        Distance in metres (geodesic, on EPSG:4326 points), 0 < radius ≤ 50 km.

    Returns
    -------
    dict
        ``wards`` (code, name, population, points, method, share 0-1, covered_population), the
        city's population-weighted ``share`` and the ``method`` in words.
    """
    table, column = _layer(layer, COVERAGE_LAYERS)
    if not 0 < radius_m <= MAX_RADIUS_M:
        raise InvalidInput(f"radius_m must be in (0, {MAX_RADIUS_M:g}] metres, got {radius_m}")
    await _check_type(conn, layer, kind)
    query = sql.SQL(load_sql("coverage/coverage")).format(layer=table, kind=column)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, {"type": kind, "radius_m": radius_m, "spacing_m": LAND_SPACING_M})
        wards = await cur.fetchall()
    population = sum(w["population"] or 0 for w in wards if w["share"] is not None)
    covered = sum(w["covered_population"] or 0 for w in wards if w["share"] is not None)
    return {
        "layer": layer,
        "type": kind,
        "radius_m": radius_m,
        "method": COVERAGE_METHOD,
        "population": population,
        "covered_population": covered,
        "share": covered / population if population else None,
        "wards": wards,
    }


async def reports_per_1000(
    conn: AsyncConnection, *, start: datetime, end: datetime, category: str | None = None
) -> dict[str, Any]:
    """Reports received per 1,000 residents of each ward/commune in ``[start, end)`` (and per year)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start and end must carry a time zone offset")
    if end <= start:
        raise InvalidInput(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    wards = await fetch_all(conn, "coverage/reports_per_1000", {"start": start, "end": end, "category": category})
    years = (end - start).total_seconds() / (365.25 * 86400)
    for ward in wards:
        per = ward["per_1000"]
        ward["per_1000"] = float(per) if per is not None else None
        ward["per_1000_per_year"] = float(per) / years if per is not None else None
    return {"start": start.isoformat(), "end": end.isoformat(), "category": category, "wards": wards}
