"""Human pages: the home page (Vietnamese and English)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from geo.registry import published

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, lang: Annotated[Literal["vi", "en"], Query()] = "vi") -> HTMLResponse:
    """The landing page: what HueGIS is and where each layer is published."""
    return TEMPLATES.TemplateResponse(request, "home.html", {"lang": lang, "layers": published()})


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, lang: Annotated[Literal["vi", "en"], Query()] = "vi") -> HTMLResponse:
    """City leaders' dashboard: headline KPIs, trend, ward choropleth, bottlenecks, drill-down."""
    return TEMPLATES.TemplateResponse(request, "dashboard.html", {"lang": lang})
