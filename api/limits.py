"""Abuse limits and edge checks: request rates per IP and per device or account, the body cap, NUL characters.

Rates are counted in memory with moving windows (the ``limits`` library), **per process**: with
several uvicorn workers or hosts each one counts on its own, so a client can get up to that many
times the limit. Put a shared limiter in the reverse proxy when the platform is scaled out.

The client IP is the socket's peer; ``X-Forwarded-For`` is believed only when that peer is one of
``Settings.trusted_proxies`` (then the nearest address not itself a trusted proxy is the client).
Run uvicorn with ``--no-proxy-headers`` so that it does not rewrite the peer first.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import time
from collections.abc import Iterable
from typing import NamedTuple

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import NUL_TEXT, RateLimited
from geo.errors import InvalidInput
from geo.settings import Settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Open311 fields naming who submits, most specific first (api_key: the client application).
OPEN311_SUBMITTER_FIELDS = ("device_id", "account_id", "api_key")
OPEN311_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def parse_rates(text: str | None) -> list[RateLimitItem]:
    """``"20/minute"`` or ``"20/minute;200/hour"`` as limit items; ``"0"`` or ``""``: none (off)."""
    text = (text or "").strip()
    return [] if text in ("", "0") else parse_many(text)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[IPNetwork]) -> str:
    """The client's IP: the peer, or through trusted proxies the nearest untrusted X-Forwarded-For hop."""
    trusted = list(trusted)
    client = peer or "unknown"
    if not forwarded_for or not _is_in(client, trusted):
        return client
    # Proxies append the address they saw: walk back from the right while the hop is a proxy.
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not _is_ip(hop):
            break  # a malformed entry (forged or broken): trust nothing left of it
        client = hop
        if not _is_in(hop, trusted):
            break
    return client


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_in(address: str, networks: list[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class Counter(NamedTuple):
    """One count a request adds to: a rate rule, who is counted (for the message), and their key."""

    rule: str
    who: str
    key: str


class RateLimits:
    """The process's rate rules (from settings) and their moving-window counters."""

    def __init__(self, settings: Settings) -> None:
        self.trusted_proxies = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]
        self.rules = {
            "intake": parse_rates(settings.rate_limit_intake),
            "device": parse_rates(settings.rate_limit_device),
            "login": parse_rates(settings.rate_limit_login),
        }
        self._window = MovingWindowRateLimiter(MemoryStorage())

    def client_ip(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.get("x-forwarded-for"), self.trusted_proxies)

    def hit(self, action: str, counters: Iterable[Counter]) -> None:
        """Count one ``action`` on every counter, or on none and raise RateLimited when one is full.

        Test-then-hit has no ``await`` in between, so it is atomic within the process's event loop.
        """
        pairs = [(item, c) for c in counters for item in self.rules[c.rule]]
        for item, counter in pairs:
            if not self._window.test(item, counter.rule, counter.key):
                reset_at = self._window.get_window_stats(item, counter.rule, counter.key).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise RateLimited(
                    f"too many {action} from {counter.who}: the limit is {item.amount} per "
                    f"{_window_name(item)}; try again in {retry_after} s",
                    retry_after,
                )
        for item, counter in pairs:
            self._window.hit(item, counter.rule, counter.key)


def _window_name(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"


def _limits(request: Request) -> RateLimits:
    return request.app.state.rate_limits


async def limit_intake(request: Request) -> None:
    """Report submissions from the web and apps: per client IP and per device (``X-Device-Id``)."""
    limits = _limits(request)
    counters = [Counter("intake", "this address", limits.client_ip(request))]
    if device := request.headers.get("x-device-id", "").strip():
        counters.append(Counter("device", "this device", device))
    limits.hit("report submissions", counters)


async def limit_open311_post(request: Request) -> None:
    """Open311 POST requests: per client IP and per device, account or API key (form or query)."""
    limits = _limits(request)
    counters = [Counter("intake", "this address", limits.client_ip(request))]
    fields = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in OPEN311_FORM_TYPES:
        # Parsed once: Starlette keeps the form for the handler (same bounds as the handler's).
        form = await request.form(max_files=1, max_fields=100)
        fields.update({k: v for k, v in form.items() if isinstance(v, str)})
    submitter = next((f"{name}:{fields[name].strip()}" for name in OPEN311_SUBMITTER_FIELDS
                      if fields.get(name, "").strip()), None)  # fmt: skip
    if submitter:
        counters.append(Counter("device", f"this {submitter.split(':')[0]}", submitter))
    limits.hit("service requests", counters)


async def limit_login(request: Request) -> None:
    """Login attempts: per client IP and per user name (the OAuth2 password form's ``username``)."""
    limits = _limits(request)
    counters = [Counter("login", "this address", limits.client_ip(request))]
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in OPEN311_FORM_TYPES:
        username = (await request.form()).get("username")
        if isinstance(username, str) and username.strip():
            counters.append(Counter("login", "this user name", "user:" + username.strip().lower()))
    limits.hit("login attempts", counters)


async def refuse_nul(request: Request) -> None:
    """Every route: 400 naming the query or path parameter that holds a NUL character (0x00).

    PostgreSQL cannot store NUL in text, so such a value could only fail later, as a 500.
    """
    for where, items in (("query", request.query_params.multi_items()), ("path", request.path_params.items())):
        for name, value in items:
            if isinstance(value, str) and "\x00" in value:
                raise InvalidInput(f"{where} parameter {name!r}: {NUL_TEXT}")


class BodyTooLarge(HTTPException):
    """The request body passed the cap (413); raised while it is read, so handlers map it like any 4xx."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {_size(limit)}")


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n / 2**10:g} KiB" if n >= 2**10 else f"{n} bytes"


class BodyLimit:
    """Pure ASGI middleware: refuse request bodies over ``max_bytes`` with 413 before they are read whole.

    A declared ``Content-Length`` over the cap fails on the first read (nothing is received); a
    chunked body fails as soon as the bytes received pass it. ``larger`` gives some paths their
    own cap (e.g. a staff CSV upload); ``patterns`` do the same for paths with parameters.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger: dict[str, int] | None = None,
        patterns: dict[re.Pattern[str], int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}
        self.patterns = patterns or {}

    def _limit(self, path: str) -> int:
        if path in self.larger:
            return self.larger[path]
        return next((cap for pattern, cap in self.patterns.items() if pattern.fullmatch(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope.get("path", "")) if scope["type"] == "http" else 0
        if not limit:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        too_large = declared.isdigit() and int(declared) > limit
        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            if too_large:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, tracked_send)
        except BodyTooLarge as exc:  # an app without an HTTPException handler let it through
            if started:
                raise
            await _send_json(send, exc.status_code, exc.detail)


async def _send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
