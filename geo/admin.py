"""Administrative units and departments: which ward/commune a point belongs to, and whether a
unit or department code names one (the one place those checks live)."""

from __future__ import annotations

from psycopg import AsyncConnection

from geo.db import fetch_one, load_sql
from geo.errors import HueGISError, InvalidInput, NotFound


async def find_unit_at(conn: AsyncConnection, *, lon: float, lat: float) -> dict:
    """The ward/commune covering (lon, lat) in EPSG:4326; ``NotFound`` outside the city."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(f"lon={lon}, lat={lat} is not a WGS 84 position (lon -180..180, lat -90..90)")
    missing = f"no ward or commune of Huế covers lon={lon}, lat={lat}"
    return await fetch_one(conn, "admin/unit_at_point", {"lon": lon, "lat": lat}, missing=missing)


async def check_ward(
    conn: AsyncConnection, code: str, *, field: str = "unit", error: type[HueGISError] = InvalidInput
) -> None:
    """``error`` naming ``field`` unless ``code`` is one of the 40 wards and communes (not the city)."""
    row = await fetch_one(conn, "admin/unit_level", {"code": code})
    if row is None or row["level"] == "city":
        if error is NotFound:
            raise NotFound(f"no ward or commune with code {code!r}")
        raise error(f"{field} {code!r} is not a ward or commune of Huế (see /api/admin-units)")


async def check_department(conn: AsyncConnection, code: str, *, field: str = "department") -> None:
    """InvalidInput naming ``field`` unless ``code`` is a city department of the catalogue."""
    if await fetch_one(conn, "admin/department_exists", {"code": code}) is None:
        raise InvalidInput(f"unknown {field} {code!r} (see /api/report-categories)")


async def check_category(conn: AsyncConnection, code: str, *, field: str = "category") -> None:
    """InvalidInput naming ``field`` unless ``code`` is a category of the catalogue (a typo is not "none")."""
    if await fetch_one(conn, "admin/category_exists", {"code": code}) is None:
        raise InvalidInput(f"unknown {field} {code!r} (see /api/report-categories)")


async def units_geojson(conn: AsyncConnection, *, tolerance_m: float) -> str:
    """Wards and communes as GeoJSON text, simplified by ``tolerance_m`` metres (EPSG:32648)."""
    if not 0 <= tolerance_m <= 1000:
        raise InvalidInput(f"tolerance_m must be 0-1000 metres, got {tolerance_m}")
    async with conn.cursor() as cur:
        await cur.execute(load_sql("admin/units_geojson"), {"tolerance_m": tolerance_m})
        row = await cur.fetchone()
    assert row is not None  # an aggregate always returns a row
    return row[0]
