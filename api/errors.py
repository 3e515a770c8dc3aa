"""Domain and database errors mapped to HTTP responses, in one place."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    HueGISError,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    NotReady,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
)

log = logging.getLogger("huegis.api")


class UnsupportedMediaType(HueGISError):
    """The request body is in a format the endpoint does not read (415)."""

    def __init__(self, content_type: str, accepted: str) -> None:
        super().__init__(f"send {accepted}, not {content_type or 'a body without content type'!r}")


class RateLimited(HueGISError):
    """A client sent more requests than a rate limit allows (429, with ``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_s)}


# Most specific first: the first match wins.
STATUS: dict[type[HueGISError], int] = {
    PayloadTooLarge: 413,
    RateLimited: 429,
    UnsupportedMediaType: 415,
    Forbidden: 403,
    NotFound: 404,
    InvalidInput: 400,
    MethodNotAllowed: 405,
    PreconditionFailed: 412,
    PreconditionRequired: 428,
    Conflict: 409,
    DatabaseUnavailable: 503,
    NotReady: 503,
}


def error_body(status: int, detail: str, code: str | None = None) -> JSONResponse:
    """``{"detail": ...}``, with the problem's ``code`` when it has one (clients translate it)."""
    return JSONResponse(status_code=status, content={"detail": detail} | ({"code": code} if code else {}))


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
    response = error_body(status, str(exc), getattr(exc, "code", None))
    response.headers.update(getattr(exc, "headers", {}))
    return response


def database_failure(request: Request, exc: Exception) -> tuple[str, str]:
    """What to tell the client about a database error (a 503), and when to retry.

    A statement cancelled by ``statement_timeout`` is the request's own weight, not an outage.
    """
    if isinstance(exc, psycopg.errors.QueryCanceled):
        limit_s = request.app.state.settings.statement_timeout_ms / 1000
        log.warning("query cancelled after the statement timeout (%g s): %s %s", limit_s, request.method, request.url)
        return (
            f"the query took longer than the server allows ({limit_s:g} s, statement_timeout); "
            "ask for less (a shorter period, a smaller area, fewer items) or try again later",
            "30",
        )
    log.warning("database unavailable: %s", exc)
    return "the database is unavailable; try again shortly", "5"


NUL_TEXT = "text must not contain NUL (0x00) characters, which PostgreSQL cannot store"


def is_nul_text(exc: Exception) -> bool:
    """A NUL character refused: by psycopg in text, before sending it, or by PostgreSQL in jsonb (``\\u0000``)."""
    return isinstance(exc, psycopg.errors.UntranslatableCharacter) or (
        isinstance(exc, psycopg.DataError) and "NUL (0x00)" in str(exc)
    )


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    if is_nul_text(exc):  # query and path parameters are checked up front; this is a body's text
        return error_body(400, f"{NUL_TEXT} (in the request body)")
    log.error("data error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_body(500, "Internal Server Error")


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    message, retry_after = database_failure(request, exc)
    response = error_body(503, message)
    response.headers["Retry-After"] = retry_after
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping on the app."""
    app.add_exception_handler(HueGISError, _domain_error)
    app.add_exception_handler(PoolTimeout, _database_down)
    app.add_exception_handler(psycopg.OperationalError, _database_down)
    app.add_exception_handler(psycopg.DataError, _data_error)


class OutageAs503:
    """ASGI wrapper for a mounted app with its own database engine (pygeoapi under /ogc).

    Such an app answers a database outage with a 500 (or raises); when our pool cannot reach the
    database either, the client gets the same 503 with ``Retry-After`` as from our endpoints.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pool: AsyncConnectionPool = scope["app"].state.pool
        replaced = False

        async def send_or_replace(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the wrapped app's own error body: dropped
            if message["type"] == "http.response.start" and message["status"] >= 500 and not await _reachable(pool):
                replaced = True
                await _unavailable()(scope, receive, send)
                return
            await send(message)

        try:
            await self.app(scope, receive, send_or_replace)
        except Exception:
            if replaced or await _reachable(pool):
                raise
            await _unavailable()(scope, receive, send)


async def _reachable(pool: AsyncConnectionPool) -> bool:
    """True if the database answers through our pool within a second."""
    try:
        async with pool.connection(timeout=1) as conn:
            await conn.execute("SELECT 1")
    except (PoolTimeout, psycopg.OperationalError):
        return False
    return True


def _unavailable() -> JSONResponse:
    log.warning("database unavailable (seen by a mounted app)")
    response = error_body(503, "the database is unavailable; try again shortly")
    response.headers["Retry-After"] = "5"
    return response
