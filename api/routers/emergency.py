"""``/emergency``: the emergency view (Vietnamese and English): active zones, what they expose, reports inside."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import ConnDep
from geo import disasters
from geo.rasters import list_rasters
from geo.times import TZ

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/emergency", response_class=HTMLResponse)
async def emergency(
    request: Request,
    conn: ConnDep,
    lang: Annotated[Literal["vi", "en"], Query()] = "vi",
    status: Annotated[Literal["Actual", "Exercise", "Test"] | None, Query()] = None,
) -> HTMLResponse:
    """Active zones (all statuses unless ``status`` is given), their exposure, and the hazard rasters."""
    now = datetime.now(TZ)
    collection = await disasters.zones_geojson(conn, at=now, status=status)
    zones = []
    for feature in collection["features"]:
        exposure = await disasters.zone_exposure(conn, zone_id=feature["id"])
        zones.append({"feature": feature, "exposure": exposure})
    rasters = await list_rasters(conn)
    return TEMPLATES.TemplateResponse(
        request,
        "emergency.html",
        {"lang": lang, "zones": jsonable_encoder(zones), "rasters": rasters, "now": now, "status": status},
    )
