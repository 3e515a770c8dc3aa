"""Domain and database errors mapped to HTTP responses, in one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    HueGISError,
    InvalidInput,
    InvalidInputs,
    MethodNotAllowed,
    NotFound,
    NotReady,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
)
from geo.settings import Settings

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


# What a citizen is told for each problem code, in Vietnamese and English: every refusal with a code
# carries both (``errors``), and the portal shows the same texts. Placeholders come from the settings.
MESSAGES: dict[str, tuple[str, str]] = {
    "location": ("Hãy đặt ghim trên bản đồ hoặc dùng vị trí của bạn.", "Drop a pin on the map or use your location."),
    "outside_city": ("Vị trí này nằm ngoài Thành phố Huế: hãy đặt ghim trong địa bàn thành phố.",
                     "This place is outside Thành phố Huế: drop the pin inside the city."),
    "unknown_category": ("Hãy chọn loại phản ánh.", "Choose a category."),
    "description_length": ("Mô tả cần từ 10 đến 4.000 ký tự.", "The description needs 10 to 4,000 characters."),
    "channel": ("Kênh gửi phản ánh không hợp lệ.", "The report's channel is not one we know."),
    "too_many_photos": ("Tối đa {photo_max_count} ảnh.", "At most {photo_max_count} photos."),
    "photo_type": ("Ảnh phải là JPEG, PNG hoặc WebP.", "Photos must be JPEG, PNG or WebP."),
    "photo_too_large": ("Mỗi ảnh phải nhỏ hơn {photo_max_mb} MB.",
                        "Each photo must be smaller than {photo_max_mb} MB."),
    "photo_pixels": ("Ảnh có độ phân giải quá lớn.", "A photo has too many pixels."),
    "contact_length": ("Thông tin liên hệ quá dài.", "The contact details are too long."),
    "phone_invalid": ("Số điện thoại không hợp lệ: bắt đầu bằng 0 hoặc +84, tiếp theo 9–10 chữ số.",
                      "The phone number is not valid: start with 0 or +84, then 9–10 digits."),
    "email_invalid": ("Địa chỉ thư điện tử không hợp lệ (ví dụ: ten@example.vn).",
                      "The e-mail address is not valid (for example: name@example.vn)."),
    "too_large": ("Các ảnh quá lớn để gửi cùng lúc.", "The photos are too large to send together."),
    "rate_limited": ("Bạn đã gửi nhiều phản ánh liên tiếp; vui lòng thử lại sau ít phút.",
                     "You have sent many reports in a row; please try again in a few minutes."),
    "rating_range": ("Hãy chọn mức đánh giá từ 1 đến 5.", "Choose a rating from 1 to 5."),
    "comment_length": ("Nhận xét tối đa 2.000 ký tự.", "The comment may have at most 2,000 characters."),
    "not_resolved": ("Chỉ đánh giá được khi phản ánh đã được xử lý xong.",
                     "A report can be rated only once it has been resolved."),
    "follow_token": ("Chỉ người gửi phản ánh mới đánh giá được (thiếu hoặc sai mã theo dõi).",
                     "Only the person who sent the report can rate it (the follow token is missing or wrong)."),
    "report_code": ("Mã phản ánh có dạng HUE-XXXXXXXX.", "A report code looks like HUE-XXXXXXXX."),
    "invalid_field": ("Thông tin này không hợp lệ.", "This value is not valid."),
    "other": ("Không gửi được phản ánh. Vui lòng kiểm tra lại và thử lại.",
              "The report could not be sent. Please check it and try again."),
}  # fmt: skip
# Which code a field refused by request validation is (whatever Pydantic's reason): the field's
# own problem as the citizen knows it. Fields of the report, the rating, the follow-up, Open311.
FIELD_CODES: dict[str, str] = {
    "lon": "location", "lat": "location", "long": "location", "category": "unknown_category",
    "service_code": "unknown_category", "description": "description_length", "channel": "channel",
    "reporter_name": "contact_length", "reporter_phone": "contact_length", "reporter_email": "contact_length",
    "device_id": "contact_length", "first_name": "contact_length", "last_name": "contact_length",
    "email": "contact_length", "phone": "contact_length", "photos": "photo_type", "rating": "rating_range",
    "comment": "comment_length", "token": "follow_token", "code": "report_code",
}  # fmt: skip


def message_texts(lang: str, settings: Settings) -> dict[str, str]:
    """Every problem code's text in one language (``vi`` or ``en``)."""
    values = {"photo_max_count": settings.photo_max_count, "photo_max_mb": settings.photo_max_bytes // 2**20}
    i = 0 if lang == "vi" else 1
    return {code: pair[i].format(**values) for code, pair in MESSAGES.items()}


def problem(exc: HueGISError, settings: Settings) -> dict[str, Any]:
    """One problem for the client: the field, the code, the message for developers, vi and en texts."""
    code = exc.code or "invalid_field"
    texts = {lang: message_texts(lang, settings).get(code, MESSAGES["invalid_field"][0]) for lang in ("vi", "en")}
    return {"field": getattr(exc, "field", None), "code": code, "message": str(exc), **texts}


def invalid_fields(errors: Sequence[Mapping[str, Any]]) -> InvalidInput:
    """Pydantic's errors as one problem per refused field, each with its code, all together."""
    problems: dict[str, InvalidInput] = {}  # one per code: a missing lon and lat are one missing place
    for error in errors:
        field = next((str(part) for part in reversed(error["loc"]) if isinstance(part, str)), "body")
        # A validator's own problem code (its error type, e.g. phone_invalid) before the field's.
        code = error["type"] if error["type"] in MESSAGES else FIELD_CODES.get(field, "invalid_field")
        message = f"{'.'.join(map(str, error['loc'])) or 'body'}: {error['msg']}"
        problems.setdefault(code, InvalidInput(message, code=code, field=field))
    return together(list(problems.values()) or [InvalidInput("the request is not valid", code="invalid_field")])


def together(problems: list[InvalidInput]) -> InvalidInput:
    """One error for one or more problems."""
    return problems[0] if len(problems) == 1 else InvalidInputs(problems)


def error_body(status: int, detail: str, code: str | None = None) -> JSONResponse:
    """``{"detail": ...}``, with the problem's ``code`` when it has one (clients translate it)."""
    return JSONResponse(status_code=status, content={"detail": detail} | ({"code": code} if code else {}))


def coded_body(status: int, detail: Any, exc: HueGISError, settings: Settings) -> JSONResponse:
    """``detail``, the first problem's ``code`` and ``errors``: every problem with its code and vi/en text."""
    problems = getattr(exc, "problems", [exc])
    body = {"detail": detail, "code": exc.code, "errors": [problem(p, settings) for p in problems]}
    return JSONResponse(status_code=status, content=body)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
    if isinstance(exc, HueGISError) and exc.code:
        response = coded_body(status, str(exc), exc, request.app.state.settings)
    else:
        response = error_body(status, str(exc), getattr(exc, "code", None))
    response.headers.update(getattr(exc, "headers", {}))
    return response


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 (its ``detail`` list kept), with a code per refused field and its vi/en text."""
    assert isinstance(exc, RequestValidationError)
    details = jsonable_encoder(exc.errors())
    return coded_body(422, details, invalid_fields(exc.errors()), request.app.state.settings)


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
    app.add_exception_handler(RequestValidationError, _request_invalid)
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
