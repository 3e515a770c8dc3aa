"""``/api/layers`` (the registry) and ``/api/admin-units/at`` (point-in-ward lookup)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from psycopg.rows import dict_row

from api.deps import ConnDep
from geo.admin import find_unit_at, units_geojson
from geo.db import load_sql
from geo.registry import published

router = APIRouter(prefix="/api", tags=["layers"])


@router.get("/layers", summary="Every published layer")
async def list_layers(conn: ConnDep) -> list[dict]:
    """The layer registry with row counts as last loaded and the URLs of each layer."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("admin/layer_counts"))
        counts = {row["layer_id"]: row for row in await cur.fetchall()}
    return [
        {
            "id": spec.id,
            "title": spec.title,
            "title_vi": spec.title_vi,
            "description": spec.description,
            "group": spec.group,
            "geometry_type": spec.geometry_type,
            "fields": list(spec.fields),
            "source": spec.source,
            "licence": spec.licence,
            "synthetic": spec.synthetic,
            "rows_loaded": counts.get(spec.id, {}).get("rows"),
            "links": {"ogc": f"/ogc/collections/{spec.id}", "items": f"/ogc/collections/{spec.id}/items"},
        }
        for spec in published()
    ]


@router.get("/admin-units.geojson", summary="Wards and communes, simplified, as GeoJSON", response_class=Response)
async def admin_units_geojson(
    conn: ConnDep,
    tolerance_m: Annotated[float, Query(ge=0, le=1000, description="Simplification tolerance in metres")] = 30,
) -> Response:
    """Light polygons for overview maps (the full-precision layer is /ogc/collections/admin_units)."""
    body = await units_geojson(conn, tolerance_m=tolerance_m)
    return Response(body, media_type="application/geo+json", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/admin-units/at", summary="Which ward/commune covers a point")
async def admin_unit_at(
    conn: ConnDep,
    lon: Annotated[float, Query(description="Longitude, EPSG:4326", ge=-180, le=180)],
    lat: Annotated[float, Query(description="Latitude, EPSG:4326", ge=-90, le=90)],
) -> dict:
    """The single ward or commune covering (lon, lat); 404 outside the city."""
    return await find_unit_at(conn, lon=lon, lat=lat)
