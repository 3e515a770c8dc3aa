"""Administrative units: which ward/commune a point belongs to."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.db import load_sql
from geo.errors import InvalidInput, NotFound


async def find_unit_at(conn: AsyncConnection, *, lon: float, lat: float) -> dict:
    """The ward/commune covering (lon, lat) in EPSG:4326; ``NotFound`` outside the city."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(f"lon={lon}, lat={lat} is not a WGS 84 position (lon -180..180, lat -90..90)")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("admin/unit_at_point"), {"lon": lon, "lat": lat})
        row = await cur.fetchone()
    if row is None:
        raise NotFound(f"no ward or commune of Huế covers lon={lon}, lat={lat}")
    return row


async def units_geojson(conn: AsyncConnection, *, tolerance_m: float) -> str:
    """Wards and communes as GeoJSON text, simplified by ``tolerance_m`` metres (EPSG:32648)."""
    if not 0 <= tolerance_m <= 1000:
        raise InvalidInput(f"tolerance_m must be 0-1000 metres, got {tolerance_m}")
    async with conn.cursor() as cur:
        await cur.execute(load_sql("admin/units_geojson"), {"tolerance_m": tolerance_m})
        row = await cur.fetchone()
    assert row is not None  # an aggregate always returns a row
    return row[0]
