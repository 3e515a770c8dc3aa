"""Open311 GeoReport v2 at ``/open311/v2``: every endpoint as ``.json`` and ``.xml``, errors in the spec's shape."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from psycopg_pool import PoolTimeout
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from api.deps import ConnDep, SettingsDep
from api.errors import NUL_TEXT, STATUS, database_failure, invalid_fields, is_nul_text, problem
from api.limits import limit_open311_post
from geo import open311
from geo.errors import HueGISError, InvalidInput, NotFound

PREFIX = "/open311/v2"
log = logging.getLogger("huegis.open311")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
POST_FIELDS = ("api_key", "service_code", "lat", "long", "address_string", "description", "email", "first_name",
               "last_name", "phone", "device_id", "media_url")  # fmt: skip


def _format_of(request: Request) -> str:
    """The format the client asked for by suffix; XML (the spec's required one) when unclear."""
    _, dot, suffix = request.url.path.rsplit("/", 1)[-1].rpartition(".")
    return suffix if dot and suffix in open311.FORMATS else "xml"


def _error(request: Request, status: int, description: str) -> Response:
    body, media_type = open311.render(open311.errors(status, description), root="errors", fmt=_format_of(request))
    return Response(body, status_code=status, media_type=media_type)


def _coded(request: Request, status: int, exc: HueGISError) -> Response:
    """One spec error per problem, all at once: the citizen's text in the request's language, then ours."""
    try:
        lang = open311.parse_lang(request.query_params.get("lang") or
                                  open311.preferred_lang(request.headers.get("accept-language")))  # fmt: skip
    except InvalidInput:
        lang = "vi"
    settings = request.app.state.settings
    problems = getattr(exc, "problems", [exc])
    errors = [{"code": status, "description": f"{problem(p, settings)[lang]} ({p.code}: {p})"} for p in problems]
    body, media_type = open311.render(errors, root="errors", fmt=_format_of(request))
    return Response(body, status_code=status, media_type=media_type, headers=getattr(exc, "headers", None))


class Open311Route(APIRoute):
    """Every failure on these paths answers as the spec's error list, in the request's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, with failures turned into Open311 errors."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return _coded(request, 400, invalid_fields(exc.errors()))
            except HTTPException as exc:  # Starlette's own, e.g. a malformed multipart body
                return _error(request, exc.status_code if exc.status_code < 500 else 400, str(exc.detail))
            except HueGISError as exc:
                status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
                if exc.code:
                    return _coded(request, status if status < 500 else 503, exc)
                response = _error(request, status if status < 500 else 503, str(exc))
                response.headers.update(getattr(exc, "headers", {}))  # Retry-After of a rate limit
                return response
            except psycopg.DataError as exc:
                if not is_nul_text(exc):
                    raise
                return _error(request, 400, NUL_TEXT)
            except (PoolTimeout, psycopg.OperationalError) as exc:
                message, retry_after = database_failure(request, exc)
                response = _error(request, 503, message)
                response.headers["Retry-After"] = retry_after
                return response

        return route


def _jurisdiction(jurisdiction_id: Annotated[str | None, Query(description="hue.gov.vn (optional)")] = None) -> None:
    open311.check_jurisdiction(jurisdiction_id)


router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route, dependencies=[Depends(_jurisdiction)])


def _fmt(fmt: str) -> str:
    return open311.parse_format(fmt)


def _lang(
    request: Request,
    lang: Annotated[str | None, Query(description="vi or en (default: Accept-Language, else vi)")] = None,
) -> str:
    """``lang=``, else the client's ``Accept-Language`` (Open311 has no language parameter), else Vietnamese."""
    return open311.parse_lang(lang or open311.preferred_lang(request.headers.get("accept-language")))


Fmt = Annotated[str, Depends(_fmt)]
Lang = Annotated[str, Depends(_lang)]


def _respond(payload: Any, *, root: str, fmt: str, lang: str | None = None) -> Response:
    body, media_type = open311.render(payload, root=root, fmt=fmt)
    # In words of one language, chosen perhaps by Accept-Language: caches must keep them apart.
    headers = {"Content-Language": lang, "Vary": "Accept-Language"} if lang else None
    return Response(body, media_type=media_type, headers=headers)


@router.get("/discovery.{fmt}", summary="Where this endpoint is and what it speaks")
async def discovery(settings: SettingsDep, fmt: Fmt) -> Response:
    """The endpoint's URL (from HUEGIS_PUBLIC_URL), formats and contact."""
    url = settings.public_url.rstrip("/") + PREFIX
    payload = open311.discovery(url=url, production=settings.environment == "production")
    return _respond(payload, root="discovery", fmt=fmt)


@router.get("/services.{fmt}", summary="Service types: the report categories")
async def services(conn: ConnDep, fmt: Fmt, lang: Lang) -> Response:
    """``lang=en`` for English names (Vietnamese by default)."""
    return _respond(await open311.list_services(conn, lang=lang), root="services", fmt=fmt, lang=lang)


@router.get("/services/{service_code}.{fmt}", summary="A service definition: its extra attributes")
async def service_definition(conn: ConnDep, service_code: str, fmt: Fmt) -> Response:
    """The category's attributes (extra questions); 404 for an unknown service code."""
    payload = await open311.get_service_definition(conn, service_code=service_code)
    return _respond(payload, root="service_definition", fmt=fmt)


@router.get("/requests.{fmt}", summary="Service requests (public fields only)")
async def list_requests(
    conn: ConnDep,
    settings: SettingsDep,
    fmt: Fmt,
    lang: Lang,
    service_request_id: Annotated[str | None, Query(description="Codes, comma delimited; overrides the rest")] = None,
    service_code: Annotated[str | None, Query(description="Service codes, comma delimited")] = None,
    start_date: Annotated[str | None, Query(description="Earliest requested_datetime (ISO 8601)")] = None,
    end_date: Annotated[str | None, Query(description="Latest requested_datetime; at most 90 days after start")] = None,
    status: Annotated[str | None, Query(description="open, closed, or both comma delimited")] = None,
    page: Annotated[str | None, Query(description="Page number from 1")] = None,
    page_size: Annotated[str | None, Query(description="Requests per page, 1-1000 (default 1000)")] = None,
) -> Response:
    """Newest first; without dates, the last 90 days."""
    query = open311.parse_request_query(
        now=datetime.now().astimezone(), service_request_id=service_request_id, service_code=service_code,
        start_date=start_date, end_date=end_date, status=status, page=page, page_size=page_size,
    )  # fmt: skip
    payload = await open311.find_requests(conn, query=query, lang=lang, base_url=settings.public_url.rstrip("/"))
    return _respond(payload, root="service_requests", fmt=fmt, lang=lang)


@router.post(
    "/requests.{fmt}",
    summary="Create a service request (api_key required)",
    dependencies=[Depends(limit_open311_post)],
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["api_key", "service_code", "lat", "long"],
                        "properties": {name: {"type": "string"} for name in POST_FIELDS},
                    }
                }
            }
        }
    },
)
async def create_request(request: Request, conn: ConnDep, settings: SettingsDep, fmt: Fmt, lang: Lang) -> Response:
    """Form fields (or query parameters); ``attribute[code]=value`` answers the service's attributes."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in FORM_TYPES:
        raise InvalidInput(f"send the fields as application/x-www-form-urlencoded, not {content_type}")
    fields: dict[str, list[str]] = {}
    form = await request.form(max_files=1, max_fields=100) if content_type else None
    for key, value in [*(form.multi_items() if form else []), *request.query_params.multi_items()]:
        if isinstance(value, UploadFile):
            raise InvalidInput("file uploads are not accepted here: give media_url, or use /api/reports")
        if "\x00" in value:
            raise InvalidInput(f"field {key!r}: {NUL_TEXT}")
        fields.setdefault(key, []).append(value)
    payload = await open311.submit_request(conn, fields=fields, settings=settings, lang=lang)
    return _respond(payload, root="service_requests", fmt=fmt, lang=lang)


@router.get("/requests/{service_request_id}.{fmt}", summary="One service request")
async def get_request(conn: ConnDep, settings: SettingsDep, service_request_id: str, fmt: Fmt,
                      lang: Lang) -> Response:  # fmt: skip
    """A list of one request, as the spec answers; 404 if there is none."""
    payload = await open311.get_request(conn, service_request_id=service_request_id, lang=lang,
                                        base_url=settings.public_url.rstrip("/"))  # fmt: skip
    return _respond(payload, root="service_requests", fmt=fmt, lang=lang)


@router.get("/tokens/{token_id}.{fmt}", summary="The request a token stands for (tokens are request ids here)")
async def get_token(conn: ConnDep, token_id: str, fmt: Fmt) -> Response:
    """Requests are created synchronously, so a token is the request id itself."""
    return _respond(await open311.resolve_token(conn, token_id=token_id), root="service_requests", fmt=fmt)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def unknown(request: Request) -> Response:
    """Anything else under the prefix: the spec's 404, not FastAPI's."""
    raise NotFound(f"{request.method} {request.url.path} is not an Open311 endpoint; see {PREFIX}/discovery.xml")
