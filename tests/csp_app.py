"""The app behind the platform's Content-Security-Policy (CONTRACTS.md), for the browser tests.

Until the security middleware sets the policy itself, this wrapper does: a fresh nonce per
request in ``request.state.csp_nonce`` and the strict header on every response that has none,
so the pages are tested without any exemption. When the app sends its own policy, that one wins.
"""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.main import create_app as create_platform

POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class StrictPolicy:
    """ASGI wrapper: nonce in the request state, the policy on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = POLICY.format(nonce=nonce)
            await send(message)

        await self.app(scope, receive, send_with_policy)


def create_app() -> ASGIApp:
    """``uvicorn --factory csp_app:create_app --app-dir tests``."""
    return StrictPolicy(create_platform())
