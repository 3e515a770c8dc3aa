"""OGC API Features at ``/ogc``: pygeoapi mounted, and JSON items answered in front of it.

pygeoapi reads ``PYGEOAPI_CONFIG`` and ``PYGEOAPI_OPENAPI`` when its Starlette module is
imported, so the environment is set from the settings first, and the OpenAPI document (which
pygeoapi builds by reflecting the tables) is generated if it is missing.

``GET /ogc/collections/{layer}/items`` and ``…/items/{id}`` in JSON are answered by
``geo.ogc.features`` with pygeoapi's response shape (links, numberMatched, errors); every other
request, and any parameter only pygeoapi implements, is handed to the mounted pygeoapi app
untouched, so clients see one service. Pages in the default order link their ``next`` page by
key (``after=``), which only this router reads: a request with ``after`` that pygeoapi would
answer is a 400 rather than pygeoapi's first page.

The handlers read the pools and settings from ``app.state`` rather than through ``api.deps``:
on this hot path FastAPI's dependency solving was a tenth of the request's CPU (py-spy). Pages
and features are public reads: a replica in rotation answers them (``geo.db.Pools``).
"""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pygeoapi.util import get_choice_from_headers
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from api.consistency import read_after
from api.errors import OutageAs503
from geo.editing import etag
from geo.errors import NotFound
from geo.ogc.config import HTML_ITEMS
from geo.ogc.features import (
    InvalidParameter,
    Item,
    Page,
    Unsupported,
    check_shared_parameters,
    fetch_item,
    fetch_page,
    parse_items_query,
    unknown_parameters,
)
from geo.ogc.formats import use_csv_with_ids
from geo.ogc.openapi import generate_openapi
from geo.ogc.provider import quiet_client_errors
from geo.registry import REGISTRY, LayerSpec
from geo.settings import Settings

PREFIX = "/ogc"
router = APIRouter(prefix=PREFIX, include_in_schema=False)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# pygeoapi's media types by Accept value; the first one a client prefers decides the format.
ACCEPTED = {"text/html": "html", "application/ld+json": "jsonld", "application/json": "json"}


def create_ogc_app(settings: Settings) -> ASGIApp:
    """The pygeoapi Starlette application configured for this platform (mounted at ``PREFIX``)."""
    settings.export_pygeoapi_env()
    if not settings.pygeoapi_openapi.exists():
        generate_openapi(settings)
    use_csv_with_ids()  # CSV rows carry the feature's id
    quiet_client_errors()  # a bad filter is the client's error: no traceback at ERROR
    module = importlib.import_module("pygeoapi.starlette_app")
    # pygeoapi answers a database outage with a 500: make it our 503.
    return OutageAs503(module.APP)


class ToPygeoapi(Response):
    """Hand the request to the pygeoapi app mounted at ``/ogc``, exactly as the mount would (or with ``query``)."""

    def __init__(self, query: str | None = None) -> None:
        super().__init__()
        self.query = query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.query is not None:
            scope = {**scope, "query_string": self.query.encode()}
        for route in scope["app"].router.routes:
            if isinstance(route, Mount) and route.path == PREFIX:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    await route.handle({**scope, **child}, receive, send)
                    return
        raise RuntimeError(f"pygeoapi is not mounted at {PREFIX}")


@router.get("/collections/{layer_id}/items")
async def items(layer_id: str, request: Request) -> Response:
    """A page of features, or pygeoapi's answer when the request is not plain JSON paging."""
    layer = REGISTRY.get(layer_id)
    params = request.query_params
    unknown = unknown_parameters(layer, params) if layer else []
    if unknown:  # OGC API Features /req/core/query-param-unknown (pygeoapi would ignore them)
        return _error(400, "InvalidParameterValue", f"unknown query parameter(s): {', '.join(unknown)}; "
                      "use the collection's queryables or the parameters of the API definition")  # fmt: skip
    try:
        if layer is not None:
            check_shared_parameters(layer, params)
    except InvalidParameter as exc:
        return _error(400, "InvalidParameterValue", str(exc))
    if layer is not None and "after" in params and _format(request) is None:
        return _error(400, "InvalidParameterValue", AFTER_JSON_ONLY)
    if layer is None or _format(request) is None:
        if layer and "limit" not in params and wants_html(request):  # people read a short page; clients set limit
            return ToPygeoapi(query="&".join(filter(None, (request.url.query, f"limit={HTML_ITEMS}"))))
        return ToPygeoapi()
    try:
        query = parse_items_query(layer, params)
    except Unsupported:
        return _error(400, "InvalidParameterValue", AFTER_JSON_ONLY) if "after" in params else ToPygeoapi()
    except InvalidParameter as exc:
        return _error(400, "InvalidParameterValue", str(exc))
    counts, exact = request.app.state.feature_counts, wants_exact_count(request)
    count_max = request.app.state.settings.exact_count_max

    async def read(conn: psycopg.AsyncConnection) -> Page:
        return await fetch_page(conn, query, counts, count_max=count_max, exact=exact)

    try:
        page = await request.app.state.pools.run_read(read, after=read_after(request))
    except psycopg.errors.DataError as exc:  # a value PostgreSQL refuses (e.g. out of range)
        return _error(400, "InvalidParameterValue", f"invalid parameter value: {exc.diag.message_primary}")

    uri = f"{_base(request)}/collections/{layer.id}/items"
    # pygeoapi repeats every parameter but f and offset in its links, in the request's order (and
    # after, the other way to say where a page starts).
    rest = "".join(f"&{quote(k, safe='')}={quote(v, safe=',')}" for k, v in params.items()
                   if k not in ("f", "offset", "after"))  # fmt: skip
    links = [
        _link("self", "application/geo+json", f"{uri}?f=json{rest}", "This document as GeoJSON"),
        _link("alternate", "application/ld+json", f"{uri}?f=jsonld{rest}", "This document as RDF (JSON-LD)"),
        _link("alternate", "text/html", f"{uri}?f=html{rest}", "This document as HTML"),
    ]
    if query.offset > 0:
        prev = max(0, query.offset - query.limit)
        links.append(_link("prev", "application/geo+json", f"{uri}?offset={prev}{rest}", "Items (prev)"))
    counted_more = page.matched is not None and query.after is None and page.matched > query.limit + query.offset
    if counted_more or page.returned == query.limit:
        if not query.sortby and page.last is not None:  # by key: as cheap as the first page
            nxt = f"after={quote(page.last, safe='')}"
        else:
            nxt = f"offset={query.offset + query.limit}"
        links.append(_link("next", "application/geo+json", f"{uri}?{nxt}{rest}", "Items (next)"))
    links.append(_link("collection", "application/json", uri.rsplit("/", 1)[0], _title(layer, request)))
    counted = {} if page.matched is None else {"numberMatched": page.matched}
    tail = {**counted, "numberReturned": page.returned, "links": links, "timeStamp": _now()}
    body = b"".join((b'{"type":"FeatureCollection","features":[', page.features, b"],", _members(tail), b"}"))
    headers = _headers(request)
    if exact:
        headers["Preference-Applied"] = "count=exact"
    return Response(body, headers=headers, media_type=_media_type(request))


AFTER_JSON_ONLY = ("after: pages by key are served as GeoJSON (f=json) only, without CQL, q, lang, crs, "
                   "resulttype or a 3D or antimeridian-crossing bbox; page those by offset")  # fmt: skip


def wants_exact_count(request: Request) -> bool:
    """True when the client sends ``Prefer: count=exact`` (RFC 7240; PostgREST's spelling): count however many."""
    preferences = (part.split(";", 1)[0].strip().lower() for part in request.headers.get("prefer", "").split(","))
    return "count=exact" in preferences


@router.get("/collections/{layer_id}/items/{identifier}")
async def item(layer_id: str, identifier: str, request: Request) -> Response:
    """One feature by id; an id that is not of the id column's type is a 404 (pygeoapi: 500)."""
    layer = REGISTRY.get(layer_id)
    if layer is None or _format(request) is None or request.query_params.keys() - {"f"}:
        return ToPygeoapi()

    async def one(conn: psycopg.AsyncConnection) -> Item:
        found = await fetch_item(conn, layer, identifier)
        if found is None:
            raise NotFound("identifier not found")
        return found

    try:  # a replica may not have replayed a new feature yet: then the primary is asked
        found = await request.app.state.pools.run_read(one, after=read_after(request), missing=NotFound)
    except NotFound:
        return _error(404, "NotFound", "identifier not found")
    base = _base(request)
    uri = f"{base}/collections/{layer.id}/items/{identifier}"
    collection = f"{base}/collections/{layer.id}"
    links = [
        _link("root", "application/json", f"{base}?f=json", "The landing page of this server as JSON"),
        _link("root", "text/html", f"{base}?f=html", "The landing page of this server as HTML"),
        _link("self", "application/geo+json", f"{uri}?f=json", "This document as JSON"),
        _link("alternate", "application/ld+json", f"{uri}?f=jsonld", "This document as RDF (JSON-LD)"),
        _link("alternate", "text/html", f"{uri}?f=html", "This document as HTML"),
        _link("collection", "application/json", collection, _title(layer, request)),
        _link("prev", "application/json", f"{collection}/items/{found.prev}?f=json"),
        _link("next", "application/json", f"{collection}/items/{found.next}?f=json"),
    ]
    # The feature text ends with its closing brace: pygeoapi's members go in before it.
    members = _members({"prev": found.prev, "next": found.next, "links": links})
    body = b"".join((found.feature[:-1], b",", members, b"}"))
    # The ETag a Part 4 write sends back in If-Match (geo/editing.py).
    headers = {**_headers(request), "ETag": etag(found.feature)}
    return Response(body, headers=headers, media_type=_media_type(request))


def _format(request: Request) -> str | None:
    """'json' or 'geojson' when this router answers; None when pygeoapi should (HTML, JSON-LD, lang=)."""
    if "lang" in request.query_params:
        return None
    f = request.query_params.get("f", "").strip().lower()
    if f:
        return f if f in ("json", "geojson") else None
    for choice in get_choice_from_headers(dict(request.headers), "accept", all=True) or ():
        if choice in ACCEPTED:
            return ACCEPTED[choice] if ACCEPTED[choice] == "json" else None
    return "json"  # pygeoapi's default


def wants_html(request: Request) -> bool:
    """True when pygeoapi will answer in HTML (``f=html``, or a browser's Accept without ``f``)."""
    f = request.query_params.get("f")
    if f is not None:
        return f.strip().lower() == "html"
    choices = get_choice_from_headers(dict(request.headers), "accept", all=True) or ()
    return next((ACCEPTED[c] for c in choices if c in ACCEPTED), "json") == "html"


def _vietnamese(request: Request) -> bool:
    """True when Accept-Language prefers Vietnamese to English (pygeoapi's two languages here)."""
    header = request.headers.get("accept-language")
    if not header:
        return False
    for choice in get_choice_from_headers({"accept-language": header}, "accept-language", all=True) or ():
        language = choice.strip().lower()[:2]
        if language in ("en", "vi"):
            return language == "vi"
    return False


def _title(layer: LayerSpec, request: Request) -> str:
    return layer.title_vi if _vietnamese(request) else layer.title


# Which code answered, for operators and the tests (pygeoapi's own version banner is removed): a metric
# name of the standard Server-Timing header, shown by browsers' developer tools.
FAST_PATH = {"Server-Timing": "ogc-fast-path"}


def _headers(request: Request) -> dict[str, str]:
    language = "vi-VN" if _vietnamese(request) else "en-US"
    return {"Content-Language": language, "Content-Crs": f"<{CRS84}>", **FAST_PATH}


def _link(rel: str, media_type: str, href: str, title: str | None = None) -> dict[str, str]:
    link = {"rel": rel, "type": media_type, "href": href}
    return link if title is None else {**link, "title": title}


def _media_type(request: Request) -> str:
    return "application/geo+json" if request.query_params.get("f") == "geojson" else "application/json"


def _base(request: Request) -> str:
    """pygeoapi's server.url: the public URL and the mount prefix."""
    return f"{request.app.state.settings.public_url.rstrip('/')}{PREFIX}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _members(values: dict[str, Any]) -> bytes:
    """JSON object members without the braces, to splice into a document built elsewhere."""
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()[1:-1]


def _error(status: int, code: str, description: str) -> JSONResponse:
    """pygeoapi's exception document (always in English, as pygeoapi's are)."""
    headers = {"Content-Language": "en-US", **FAST_PATH}
    return JSONResponse({"code": code, "type": code, "description": description}, status_code=status, headers=headers)
