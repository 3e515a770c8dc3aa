"""``/maps``: the planners' web maps (folium pages built by ``geo.maps``)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import ConnDep
from api.routers.tiles import get_store
from geo.analytics import hotspot_run
from geo.maps import Assets, Lang, MapSpec, all_maps, get_map, overlay_geojson, render_map

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")
# A page reading an untracked table (analytics outputs) is rebuilt at most once a minute.
UNTRACKED_TTL_S = 60
MAX_PAGES = 64  # the app's LRU of rendered pages (app.state.map_pages)
# folium writes its map code as inline scripts: each gets the request's CSP nonce. The cached page
# keeps a slot where the nonce goes, filled per request (empty when no policy asks for one).
NONCE_SLOT = "__HUEGIS_CSP_NONCE__"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?=[\s>])")

# Drawn over a map with analytics cells while the first hot-spot run is computed (its cells come after).
BODY = re.compile(r"<body[^>]*>")
_NOTICE = ('<div role="status" class="huegis-computing" style="position:fixed;z-index:2000;bottom:36px;left:50%;'
           'transform:translateX(-50%);max-width:90vw;padding:6px 12px;border-radius:4px;background:#fff3cd;'
           'color:#533f03;border:1px solid #e0c36a;font:14px/1.4 system-ui,sans-serif">{}</div>')  # fmt: skip
COMPUTING: dict[str, str] = {
    "vi": _NOTICE.format("Đang tính điểm nóng và dự báo… (vài phút sau khi khởi động; tải lại trang sau)"),
    "en": _NOTICE.format("Computing hot spots and the forecast… (a few minutes after start; reload the page later)"),
}

router = APIRouter(tags=["maps"], include_in_schema=False)


@router.get("/maps", response_class=HTMLResponse)
async def maps_index(request: Request, lang: Annotated[Lang, Query()] = "vi") -> HTMLResponse:
    """The list of web maps."""
    return TEMPLATES.TemplateResponse(request, "maps_index.html", {"lang": lang, "maps": all_maps()})


@router.get("/maps/{name}", response_class=HTMLResponse)
async def web_map(request: Request, conn: ConnDep, name: str, lang: Annotated[Lang, Query()] = "vi") -> HTMLResponse:
    """One web map; the page is kept until a layer it draws changes. Overlays hidden at first are
    not embedded: the page fetches them from ``/maps/{name}/overlays/{overlay}`` when switched on."""
    spec = get_map(name)
    key = (name, lang, await _version(request, spec, spec.sources()))
    pages = request.app.state.map_pages
    html = pages.get(key)
    if html is None:
        rendered = await render_map(
            conn, name, assets=Assets("/static/vendor"), lang=lang, home=f"/maps?lang={lang}",
            overlays=f"/maps/{name}/overlays",
        )  # fmt: skip
        html = pages[key] = INLINE_SCRIPT.sub(f'<script nonce="{NONCE_SLOT}"', rendered)
    nonce = getattr(request.state, "csp_nonce", None)
    page = html.replace(NONCE_SLOT, nonce) if nonce else html.replace(f' nonce="{NONCE_SLOT}"', "")
    if spec.analytics and hotspot_run.state_of(await hotspot_run.run_state(conn)) == "computing":
        page = BODY.sub(lambda body: body[0] + COMPUTING[lang], page, count=1)
    return HTMLResponse(page, headers={"Cache-Control": "private, no-cache"})


@router.get("/maps/{name}/overlays/{overlay}")
async def map_overlay(request: Request, conn: ConnDep, name: str, overlay: str) -> Response:
    """One overlay of a web map as GeoJSON, as the page draws it (simplified like the page); kept like pages."""
    spec = get_map(name)
    key = ("overlay", name, overlay, await _version(request, spec, (overlay,)))
    pages = request.app.state.map_pages
    geojson = pages.get(key)
    if geojson is None:
        geojson = pages[key] = await overlay_geojson(conn, name, overlay)
    return Response(geojson, media_type="application/geo+json", headers={"Cache-Control": "private, no-cache"})


async def _version(request: Request, spec: MapSpec, tables: tuple[str, ...]) -> str:
    """What the cached answer depends on: the tables' versions, and the minute for untracked tables."""
    store = get_store(request)
    versions = await store.versions.current(store.pool)
    tags = [versions.get(table) for table in tables]
    version = ",".join(tag or "" for tag in tags)
    if spec.analytics or None in tags:
        version = f"{version}@{int(time.monotonic() // UNTRACKED_TTL_S)}"
    return version
