"""Human pages: the home page and the dashboard (Vietnamese and English), and the favicon."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import public_base
from geo.registry import get_layer, published

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
TEMPLATES = Jinja2Templates(directory=WEB_DIR / "templates")
FAVICON = WEB_DIR / "pygeoapi" / "static" / "img" / "favicon.ico"

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, lang: Annotated[Literal["vi", "en"], Query()] = "vi") -> HTMLResponse:
    """The landing page: what HueGIS is and where each layer is published."""
    # Links from HUEGIS_PUBLIC_URL, never from the Host header (a forged one would be shown, and cached).
    context = {"lang": lang, "layers": published(), "base": public_base(request)}
    return TEMPLATES.TemplateResponse(request, "home.html", context)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, lang: Annotated[Literal["vi", "en"], Query()] = "vi") -> HTMLResponse:
    """City leaders' dashboard: headline KPIs, trend, ward choropleth, bottlenecks, drill-down."""
    attribution = f"HueGIS · {get_layer('admin_units').attribution}"  # the ward map draws the admin units only
    return TEMPLATES.TemplateResponse(request, "dashboard.html", {"lang": lang, "attribution": attribution})


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The icon browsers ask for on every site (the same as the OGC pages')."""
    return FileResponse(FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})
