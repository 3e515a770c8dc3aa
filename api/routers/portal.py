"""``/portal``: the public map portal for citizens (Vietnamese by default, English on request).

The page is a MapLibre GL map over the platform's own tiles; reporting and following a report
go through ``/api/report-categories`` and ``/api/reports`` from the browser. Citizens read words,
not codes: field names, vocabularies, units and departments come labelled in the page's language.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import ConnDep
from api.errors import message_texts
from geo.db import fetch_all
from geo.registry import LayerSpec, published
from geo.reports.intake import EMAIL, PHONE
from tiles.style import layer_paint
from tiles.vector import BASEMAP

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
TEMPLATES = Jinja2Templates(directory=WEB_DIR / "templates")
LABELS_FILE = WEB_DIR / "labels.yml"
# Drawn by the basemap already; the portal offers every other layer.
IN_BASEMAP = {layer.table for layer in BASEMAP.layers}
ON_AT_START = ("citizen_reports", "disaster_zones")
# Not tiles: the open and recent reports (clustered) and the zones in force now, as GeoJSON.
RECENT_DAYS = 30
OPEN_STATUSES = ("received", "assigned", "in_progress", "reopened")

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


@cache
def labels() -> dict[str, Any]:
    """Field and value labels ([vi, en]) and the fields never shown (``web/labels.yml``)."""
    return yaml.safe_load(LABELS_FILE.read_text())


def in_language(lang: str, labels: dict[str, Any]) -> dict[str, Any]:
    """The labels of one language: ``{"fields": {name: text}, "values": {field: {value: text}}, "hidden": []}``."""
    i = 0 if lang == "vi" else 1
    return {
        "hidden": labels["hidden"],
        "fields": {name: pair[i] for name, pair in labels["fields"].items()},
        "values": {field: {str(v): pair[i] for v, pair in vs.items()} for field, vs in labels["values"].items()},
    }


@router.get("/portal", response_class=HTMLResponse)
async def portal(request: Request, conn: ConnDep, lang: Annotated[Literal["vi", "en"], Query()] = "vi") -> HTMLResponse:
    """The citizen map portal: layers, report a problem, follow a report."""
    words = in_language(lang, labels())
    units = {row["code"]: row["name"] for row in await fetch_all(conn, "admin/unit_names")}
    departments = {row["code"]: row[f"name_{lang}"] for row in await fetch_all(conn, "admin/departments")}
    for field in ("admin_unit_code", "ward_code", "unit_code"):
        words["values"][field] = units
    words["values"]["department"] = departments
    settings = request.app.state.settings
    context = {"lang": lang, "layers": portal_layers(), "labels": words, "recent_days": RECENT_DAYS,
               "open_statuses": OPEN_STATUSES, "photo_max_bytes": settings.photo_max_bytes,
               "photo_max_mb": settings.photo_max_bytes // 2**20,
               "photo_max_count": settings.photo_max_count, "errors": message_texts(lang, settings),
               "pmtiles": bool(settings.basemap_pmtiles_url),
               # The server's own rules, so the form checks a number or address before sending it.
               "contact_patterns": {"reporter_phone": PHONE.pattern, "reporter_email": EMAIL.pattern}}  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "portal.html", context)
