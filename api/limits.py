"""Abuse limits and edge checks: request rates, sign-in throttling, authentication before the body,
per-route body caps, and text PostgreSQL cannot store (NUL, lone surrogates) or JSON nested too deep.

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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import psycopg
from fastapi import APIRouter, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import authenticate, get_principal
from api.errors import NUL_TEXT, RateLimited, database_failure
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
            "login_failures": parse_rates(settings.rate_limit_login_failures),
            "login_user": parse_rates(settings.rate_limit_login_user),
            "login_backoff": parse_rates(settings.rate_limit_login_backoff),
            "expensive": parse_rates(settings.rate_limit_expensive),
        }
        self._window = MovingWindowRateLimiter(MemoryStorage())

    def client_ip(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.get("x-forwarded-for"), self.trusted_proxies)

    def check(self, action: str, counters: Iterable[Counter]) -> None:
        """Raise RateLimited when one of the counters is full (counting nothing)."""
        for item, counter in self._items(counters):
            if not self._window.test(item, counter.rule, counter.key):
                reset_at = self._window.get_window_stats(item, counter.rule, counter.key).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise RateLimited(
                    f"too many {action} from {counter.who}: the limit is {item.amount} per "
                    f"{_window_name(item)}; try again in {retry_after} s",
                    retry_after,
                )

    def hit(self, action: str, counters: Iterable[Counter]) -> None:
        """Count one ``action`` on every counter, or on none and raise RateLimited when one is full.

        Test-then-hit has no ``await`` in between, so it is atomic within the process's event loop.
        """
        counters = list(counters)
        self.check(action, counters)
        self.count(counters)

    def count(self, counters: Iterable[Counter]) -> None:
        """Add one to every counter (full or not)."""
        for item, counter in self._items(counters):
            self._window.hit(item, counter.rule, counter.key)

    def full(self, counter: Counter) -> bool:
        """True when one of the counter's rates is used up."""
        return any(not self._window.test(item, counter.rule, counter.key) for item, _ in self._items([counter]))

    def _items(self, counters: Iterable[Counter]) -> Iterator[tuple[RateLimitItem, Counter]]:
        return ((item, c) for c in counters for item in self.rules[c.rule])


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


async def limit_expensive(request: Request) -> None:
    """Requests computed on demand (exports, grids, bottlenecks): per client IP for the public, staff not counted."""
    limits = _limits(request)
    if limits.rules["expensive"] and not await _is_staff(request):
        counter = Counter("expensive", "this address", limits.client_ip(request))
        limits.hit("requests computed on demand (exports, grids, analyses; sign in for more)", [counter])


async def _is_staff(request: Request) -> bool:
    """True when the request carries a valid staff credential (a bad one counts as anonymous, not as a 401)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    bearer = token if scheme.lower() == "bearer" else None
    key = request.headers.get("x-api-key")
    if not bearer and not key:
        return False
    app = request.app
    try:
        async with app.state.pool.connection() as conn:
            await authenticate(conn, app.state.settings, bearer, key)
    except HTTPException:
        return False
    return True


def _login_counters(limits: RateLimits, ip: str, username: str) -> tuple[Counter, Counter, Counter]:
    """The failure counters of one sign-in: (user name and address), (same, in backoff), (user name)."""
    pair = f"{username}|{ip}"
    return (Counter("login_failures", "this address for this user name", pair),
            Counter("login_backoff", "this address for this user name", pair),
            Counter("login_user", "this user name", username))  # fmt: skip


def _login_name(username: object) -> str:
    return username.strip().lower() if isinstance(username, str) else ""


async def limit_login(request: Request) -> None:
    """Sign-in attempts: per client IP (all attempts), and per (user name, IP) for failed ones.

    Failures are counted per user name too; past ``rate_limit_login_user`` the user name is in backoff:
    each address may fail on it only ``rate_limit_login_backoff``. An address that has not failed on the
    name still gets its attempt, so a correct password from a new address signs in: guessing from many
    addresses is slowed down and nobody can lock an officer out.
    """
    limits = _limits(request)
    ip = limits.client_ip(request)
    limits.hit("sign-in attempts", [Counter("login", "this address", ip)])
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in OPEN311_FORM_TYPES:
        return
    username = _login_name((await request.form()).get("username"))
    if username:
        pair, backoff, user = _login_counters(limits, ip, username)
        limits.check("failed sign-ins", [backoff if limits.full(user) else pair])


def count_failed_login(request: Request, username: str) -> None:
    """A wrong password (or unknown or disabled account): one more failure for the name and its address."""
    limits = _limits(request)
    if name := _login_name(username):
        limits.count(_login_counters(limits, limits.client_ip(request), name))


MAX_JSON_DEPTH = 32  # no body of ours nests deeper than a few levels (GeoJSON multipolygons: 5)
SURROGATE = re.compile("[\ud800-\udfff]")  # left in a str only by an unpaired \\ud800-style escape
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
JSON_TYPES = ("application/json", "application/geo+json")


async def refuse_bad_text(request: Request) -> None:
    """Every route: 400 for text PostgreSQL cannot store, or a JSON body nested deeper than ``MAX_JSON_DEPTH``.

    A NUL character (0x00) in a query or path parameter, or a lone UTF-16 surrogate (``"\\ud800"``)
    or deep nesting in a JSON body, could only fail later, as a 500 (encoding, RecursionError).
    """
    for where, items in (("query", request.query_params.multi_items()), ("path", request.path_params.items())):
        for name, value in items:
            if isinstance(value, str) and "\x00" in value:
                raise InvalidInput(f"{where} parameter {name!r}: {NUL_TEXT}")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method in ("POST", "PUT", "PATCH") and content_type in JSON_TYPES:
        read_json(await request.body())


def read_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of a body; InvalidInput for malformed JSON, nesting past ``max_depth`` or a lone surrogate."""
    if body.count(b"[") + body.count(b"{") > max_depth and _depth(body) > max_depth:
        raise InvalidInput(f"body: JSON nested more than {max_depth} levels deep")
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:  # ValueError: also a number of over 4,300 digits
        raise InvalidInput(f"body is not valid JSON: {exc}") from None
    if where := _lone_surrogate(value):
        raise InvalidInput(f"body: {where} holds a lone UTF-16 surrogate (e.g. \\ud800), which is not text")
    return value


def _depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects, skipping strings (which may hold brackets)."""
    depth = deepest = 0
    for token in _JSON_TOKEN.finditer(body):
        symbol = token[0]
        if symbol in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif symbol in (b"]", b"}"):
            depth -= 1
    return deepest


def _lone_surrogate(value: Any, where: str = "") -> str | None:
    """Where (``field.sub[2]``) a string or key holds a surrogate code point, or None."""
    if isinstance(value, str):
        return (where or "value") if SURROGATE.search(value) else None
    items: Iterable[tuple[Any, Any]] = ()
    if isinstance(value, dict):
        for key in value:
            if SURROGATE.search(key):
                return f"a key of {where or 'the body'}"
        items = ((f"{where}.{k}" if where else k, v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    return next((found for path, item in items if (found := _lone_surrogate(item, path))), None)


class BodyTooLarge(HTTPException):
    """The request body passed the cap (413); raised while it is read, so handlers map it like any 4xx."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {_size(limit)}")


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n / 2**10:g} KiB" if n >= 2**10 else f"{n} bytes"


@dataclass(frozen=True)
class BodyRule:
    """A route allowed a body cap other than the default: its path (a regular expression) and cap in bytes.

    ``multipart``: the cap holds only for multipart bodies (uploads); other bodies there get the default.
    """

    path: str
    max_bytes: int
    multipart: bool = False

    def applies(self, path: str, content_type: bytes) -> bool:
        return re.fullmatch(self.path, path) is not None and (
            not self.multipart or content_type.startswith(b"multipart/form-data")
        )


class BodyLimit:
    """Pure ASGI middleware: refuse request bodies over their route's cap with 413 before they are read whole.

    Every body gets ``max_bytes`` unless one of ``rules`` names its route (uploads, zone polygons). A
    declared ``Content-Length`` over the cap fails on the first read (nothing is received); a chunked
    body fails as soon as the bytes received pass it. A cap of 0 means none.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, rules: Iterable[BodyRule] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.rules = tuple(rules)

    def limit(self, scope: Scope) -> int:
        """The cap of this request's body (0: none)."""
        if scope["type"] != "http":
            return 0
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").lower()
        path = scope.get("path", "")
        return next((rule.max_bytes for rule in self.rules if rule.applies(path, content_type)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit(scope)
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


class AuthFirst:
    """Pure ASGI middleware: a staff route authenticates its caller before anything reads the body.

    Anonymous or badly signed requests are refused (401) without receiving a byte of their body, so
    they cannot make the app parse megabytes. The principal is kept on ``request.state.principal`` for
    the route's ``get_principal`` dependency (the account is looked up once). Staff routes are the
    routes of ``routers`` that depend on ``api.deps.get_principal``, however deep.
    """

    def __init__(self, app: ASGIApp, routers: Iterable[APIRouter] = ()) -> None:
        self.app = app
        # Every route of ``routers`` that needs a principal, those left out of the OpenAPI document too.
        self.staff = [(method, route.path_regex) for router in routers for route in router.routes
                      if isinstance(route, APIRoute) and _depends_on(route.dependant, get_principal)
                      for method in route.methods or ()]  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_staff(scope):
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        request = Request(scope)
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        try:
            async with app.state.pool.connection() as conn:
                principal = await authenticate(conn, app.state.settings, token if scheme.lower() == "bearer" else None,
                                               request.headers.get("x-api-key"))  # fmt: skip
        except HTTPException as exc:
            await _send_json(send, exc.status_code, exc.detail, exc.headers)
            return
        except (PoolTimeout, psycopg.OperationalError) as exc:
            message, retry_after = database_failure(request, exc)
            await _send_json(send, 503, message, {"Retry-After": retry_after})
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    def _is_staff(self, scope: Scope) -> bool:
        """True when the request's method and path are those of a staff route."""
        method, path = scope["method"], scope["path"]
        return any(method == m and pattern.fullmatch(path) for m, pattern in self.staff)


def _depends_on(dependant: Dependant, call: Any) -> bool:
    """True when ``call`` is among the dependencies of ``dependant``, however deep."""
    return dependant.call is call or any(_depends_on(sub, call) for sub in dependant.dependencies)


async def _send_json(send: Send, status: int, detail: str, extra: Mapping[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
