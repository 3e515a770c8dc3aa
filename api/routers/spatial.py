"""Spatial analytics: the nearest facility, service coverage per ward, reports per 1,000 residents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import ConnDep
from api.routers.operations import period as parse_period
from geo.analytics import coverage

router = APIRouter(prefix="/api", tags=["spatial analytics"])


@router.get("/nearest", summary="The nearest facility of a type from a point, with the distance in metres")
async def nearest(
    conn: ConnDep,
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude, EPSG:4326")],
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude, EPSG:4326")],
    layer: Literal["health_facilities", "schools", "tourism_sites"] = "health_facilities",
    type: Annotated[str | None, Query(description="facility_type, school_level or kind, e.g. health_station")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 1,
) -> dict[str, Any]:
    """Geodesic (straight-line) distance; no road network routing."""
    found = await coverage.nearest(conn, lon=lon, lat=lat, layer=layer, kind=type, limit=limit)
    return {
        "point": {"lon": lon, "lat": lat},
        "layer": layer,
        "type": type,
        "distance": "geodesic metres",
        "features": found,
    }


@router.get("/coverage", summary="Share of each ward's population within X m of a health facility or school")
async def service_coverage(
    conn: ConnDep,
    layer: Literal["health_facilities", "schools"] = "health_facilities",
    type: Annotated[str | None, Query(description="facility_type or school_level")] = None,
    radius_m: Annotated[float, Query(gt=0, le=50_000, description="Straight-line distance in metres")] = 1000.0,
) -> dict[str, Any]:
    """Method (population spread over GeoNames populated places) in the response's ``method``."""
    return await coverage.coverage_by_ward(conn, layer=layer, kind=type, radius_m=radius_m)


@router.get("/reports-per-1000", summary="Reports per 1,000 residents of each ward/commune")
async def reports_per_1000(
    conn: ConnDep,
    start: Annotated[str | None, Query(description="YYYY-MM-DD or ISO 8601 (default: end - 30 days)")] = None,
    end: Annotated[str | None, Query(description="Exclusive end (default: now)")] = None,
    month: Annotated[str | None, Query(description="A calendar month YYYY-MM instead of start/end")] = None,
    category: str | None = None,
) -> dict[str, Any]:
    begin, finish = parse_period(start, end, month)
    return await coverage.reports_per_1000(conn, start=begin, end=finish, category=category)
