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
