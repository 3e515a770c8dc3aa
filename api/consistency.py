"""Read-your-writes with read replicas: a client's last write travels as a WAL position.

After a write (POST, PUT, PATCH, DELETE answered below 400) the response carries the primary's
WAL end as the ``huegis_lsn`` cookie and the ``X-HueGIS-LSN`` header. Reads that bring it back
(cookie, or the header for clients without cookies) go only to replicas that have replayed that
position, else to the primary: a citizen sees their report at once, right after filing it.
The cookie lasts as long as a replica in rotation may lag, plus two checks; after that any
replica in rotation has replayed the write. Without replicas nothing is added.
"""

from __future__ import annotations

import logging

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo.db import Pools, format_lsn, parse_lsn

COOKIE = "huegis_lsn"
HEADER = "X-HueGIS-LSN"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
log = logging.getLogger("huegis.api")


def read_after(connection: HTTPConnection) -> int | None:
    """The WAL position a request's reads must see (its header, else its cookie); None if none or unreadable."""
    text = connection.headers.get(HEADER) or connection.cookies.get(COOKIE)
    if not text:
        return None
    try:
        return parse_lsn(text)
    except ValueError:
        return None  # a mangled cookie only costs freshness guarantees, never an error


class WritePositions:
    """ASGI middleware: successful writes answer with the primary's WAL position (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pools: Pools | None = getattr(scope["app"].state, "pools", None) if scope["type"] == "http" else None
        if pools is None or not pools.replicas or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return

        async def send_with_position(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                try:
                    position = format_lsn(await pools.write_position())
                except Exception as exc:  # the write is done; without a position reads may lag a little
                    log.warning("no WAL position for the write's cookie: %s", exc)
                else:
                    settings = pools.settings
                    max_age = int(settings.replica_max_lag_s + 2 * settings.replica_check_interval_s) + 1
                    secure = "; Secure" if settings.public_url.startswith("https:") else ""
                    cookie = f"{COOKIE}={position}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}"
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"set-cookie", cookie.encode()),
                                                      (HEADER.lower().encode(), position.encode())]}  # fmt: skip
            await send(message)

        await self.app(scope, receive, send_with_position)
