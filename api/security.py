"""HTTP hardening in one place: security headers and the Content-Security-Policy with a nonce per
request, no version banners, and an access log that never shows a key.

Every response, an unhandled error's 500 included, gets ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY``; HTML pages the CSP below
(``frame-ancestors 'none'`` included), scripts the same without a nonce (a worker runs under its
script's policy: MapLibre's fetches tiles), other responses (JSON, images, tiles)
``default-src 'none'; frame-ancestors 'none'``. Templates put ``nonce="{{ request.state.csp_nonce }}"``
on the inline scripts they must keep.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'{connect}; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
NOT_A_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'"
HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
}
BANNERS = (b"server", b"x-powered-by")  # which software and version answers: no one's business


def content_security_policy(nonce: str | None, connect: str = "") -> str:
    """The CSP of an HTML page: scripts from our origin and those carrying this request's nonce (every page,
    the folium maps included: api/routers/maps.py gives their inline scripts the nonce). A script loaded
    as a worker runs under the policy delivered with it (``nonce`` None): our origin only. ``connect``
    adds an origin pages may fetch from (a PMTiles basemap on a CDN)."""
    return CSP.format(scripts=f" 'nonce-{nonce}'" if nonce else "", connect=f" {connect}" if connect else "")


def _origin(url: str | None) -> str:
    """``scheme://host[:port]`` of an absolute URL; empty for none or a path on our own origin."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class SecurityHeaders:
    """Pure ASGI middleware: a fresh CSP nonce on ``request.state.csp_nonce``, the headers on every response."""

    def __init__(
        self, app: ASGIApp, *, basemap_url: str | None = None, public_url: str = "", allowed_hosts: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.public_url = public_url
        self.trusted = frozenset(h.lower().encode() for h in (urlsplit(public_url).netloc, *allowed_hosts) if h)
        self.connect = _origin(basemap_url)
        self.script_policy = content_security_policy(None, self.connect)

    def policy(self, content_type: bytes, nonce: str) -> str:
        if content_type.startswith(b"text/html"):
            return content_security_policy(nonce, self.connect)
        if b"javascript" in content_type:
            return self.script_policy
        return NOT_A_PAGE_CSP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        host = dict(scope["headers"]).get(b"host", b"")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                redirect = 300 <= message["status"] < 400 and bool(self.public_url)
                headers = [(k, own_location(v, host, self.public_url, self.trusted)
                            if redirect and k.lower() == b"location" else v)
                           for k, v in message.get("headers", []) if k.lower() not in BANNERS]  # fmt: skip
                names = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", self.policy(content_type, nonce).encode()))
                headers += [(k, v) for k, v in HEADERS.items() if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            # Starlette's ServerErrorMiddleware, outside every middleware, would answer this without our
            # headers: answer here, and re-raise so that it logs the error (it sees the answer started).
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send_with_headers)
            raise


def own_location(location: bytes, host: bytes, public_url: str, trusted: frozenset[bytes]) -> bytes:
    """A redirect to the request's own Host, unless that Host is trusted, re-based on ``public_url``.

    Starlette's slash redirects (``/ogc`` → ``/ogc/``) are absolute URLs built from the request's Host,
    which a cache in front could then serve to everyone. They stay absolute: QGIS does not follow
    relative redirects.
    """
    parts = urlsplit(location.decode("latin-1"))
    own = parts.netloc.encode("latin-1").lower()
    if not own or own != host.lower() or own in trusted:
        return location
    base = urlsplit(public_url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment)).encode("latin-1")


# --- the access log -------------------------------------------------------------------------------

# Query parameters whose values are secrets (Open311's api_key above all): replaced in the access log.
SECRET_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token", "password", "secret"})
REDACTED = "REDACTED"


def redact_query(target: str) -> str:
    """A request target (``/path?query``) with the values of secret query parameters replaced."""
    path, question, query = target.partition("?")
    if not question:
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(name.lower() in SECRET_PARAMS for name, _ in pairs):
        return target
    return f"{path}?{urlencode([(n, REDACTED if n.lower() in SECRET_PARAMS else v) for n, v in pairs])}"


class RedactQuery(logging.Filter):
    """A filter for uvicorn's access log: request targets pass through ``redact_query``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access: (client, method, target, http_version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_query(args[2]), args[3], args[4])
        elif isinstance(record.msg, str) and "?" in record.msg:
            record.msg = _TARGET.sub(lambda m: redact_query(m[0]), record.msg)
        return True


_TARGET = re.compile(r"/[^\s\"]*\?[^\s\"]*")


def install_access_log_redaction() -> None:
    """Redact secret query parameters in uvicorn's access log (idempotent)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQuery) for f in access.filters):
        access.addFilter(RedactQuery())
