"""Domain and database errors mapped to HTTP responses, in one place."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

from geo.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    HueGISError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
)

log = logging.getLogger("huegis.api")


class UnsupportedMediaType(HueGISError):
    """The request body is in a format the endpoint does not read (415)."""

    def __init__(self, content_type: str, accepted: str) -> None:
        super().__init__(f"send {accepted}, not {content_type or 'a body without content type'!r}")


# Most specific first: the first match wins.
STATUS: dict[type[HueGISError], int] = {
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    Forbidden: 403,
    NotFound: 404,
    InvalidInput: 400,
    Conflict: 409,
    DatabaseUnavailable: 503,
}


def error_body(status: int, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail})


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
    return error_body(status, str(exc))


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    response = error_body(503, "the database is unavailable; try again shortly")
    response.headers["Retry-After"] = "5"
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping on the app."""
    app.add_exception_handler(HueGISError, _domain_error)
    app.add_exception_handler(PoolTimeout, _database_down)
    app.add_exception_handler(psycopg.OperationalError, _database_down)
