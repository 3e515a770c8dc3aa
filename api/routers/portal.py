"""``/portal``: the public map portal for citizens (Vietnamese by default, English on request).

The page is a MapLibre GL map over the platform's own tiles; reporting and following a report
go through ``/api/report-categories`` and ``/api/reports`` from the browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from geo.registry import LayerSpec, published
from tiles.style import layer_paint
from tiles.vector import BASEMAP

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")
# Drawn by the basemap already; the portal offers every other layer.
IN_BASEMAP = {layer.table for layer in BASEMAP.layers}
ON_AT_START = ("citizen_reports", "disaster_zones")

router = APIRouter(tags=["portal"], include_in_schema=False)


def portal_layers() -> list[dict[str, Any]]:
    """The overlays the portal offers: ids, titles, groups and MapLibre paint from the registry."""
    return [_layer(spec) for spec in published() if spec.id not in IN_BASEMAP]


def _layer(spec: LayerSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "title": spec.title,
        "title_vi": spec.title_vi,
        "group": spec.group,
        "geometry_type": spec.geometry_type,
        "id_field": getattr(spec, "id_field", "id"),
        "fields": list(spec.mvt_fields),
        "visible": spec.id in ON_AT_START,
        "paint": layer_paint(spec),
    }


@router.get("/portal", response_class=HTMLResponse)
async def portal(request: Request, lang: Annotated[Literal["vi", "en"], Query()] = "vi") -> HTMLResponse:
    """The citizen map portal: layers, report a problem, follow a report."""
    return TEMPLATES.TemplateResponse(request, "portal.html", {"lang": lang, "layers": portal_layers()})
