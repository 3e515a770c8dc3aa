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
from api.routers.portal import in_language, labels
from geo import disasters
from geo.db import fetch_all
from geo.rasters import list_rasters
from geo.registry import get_layer
from geo.times import TZ
from tiles.vector import BASEMAP

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")

router = APIRouter(tags=["pages"], include_in_schema=False)
# What the view draws over the vector basemap: the zones, what they expose, the reports, the rasters.
DRAWN = ("disaster_zones", "health_facilities", "schools", "tourism_sites", "citizen_reports", "rasters")
ATTRIBUTION = " · ".join(dict.fromkeys([BASEMAP.attribution, *(get_layer(layer).attribution for layer in DRAWN)]))


@router.get("/emergency", response_class=HTMLResponse)
async def emergency(
    request: Request,
    conn: ConnDep,
    lang: Annotated[Literal["vi", "en"], Query()] = "vi",
    status: Annotated[Literal["Actual", "Exercise", "Test"] | None, Query()] = None,
) -> HTMLResponse:
    """Zones in force (all statuses unless ``status`` is given; only ``Actual`` ones count as active, as in the
    CAP feed), their exposure, and the hazard rasters."""
    now = datetime.now(TZ)
    collection = await disasters.zones_geojson(conn, at=now, status=status)
    zones, times = [], {}
    for feature in collection["features"]:
        exposure = await disasters.zone_exposure(conn, zone_id=feature["id"])
        zones.append({"feature": feature, "exposure": exposure})
        times[feature["id"]] = tuple(_when(feature["properties"][k], lang) for k in ("onset", "expires"))
    rasters = await list_rasters(conn)
    categories = {row["code"]: row[f"name_{lang}"] for row in await fetch_all(conn, "admin/category_names")}
    context = {"lang": lang, "zones": jsonable_encoder(zones), "rasters": rasters, "now": now, "status": status,
               "times": times, "labels": in_language(lang, labels())["values"], "categories": categories,
               "attribution": ATTRIBUTION}  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "emergency.html", context)


def _when(value: datetime | str, lang: str) -> str:
    """A zone's time in Huế, as each language writes it."""
    moment = (value if isinstance(value, datetime) else datetime.fromisoformat(value)).astimezone(TZ)
    return moment.strftime("%H:%M %d/%m/%Y" if lang == "vi" else "%Y-%m-%d %H:%M")
