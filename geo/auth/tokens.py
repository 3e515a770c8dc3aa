"""Short-lived signed access tokens (JWT, HS256) for staff accounts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from geo.auth.errors import Unauthenticated
from geo.settings import Settings

ALGORITHM = "HS256"
ISSUER = "huegis"


def _signing_key(settings: Settings) -> bytes:
    """A key of its own for staff tokens, derived from the secret (which also signs citizens' follow tokens)."""
    return hashlib.sha256(b"huegis staff access tokens\0" + settings.secret_key.encode()).digest()


@dataclass(frozen=True)
class AccessToken:
    """A token as the OAuth2 password flow returns it."""

    access_token: str
    expires_in: int
    token_type: str = "bearer"


def issue_token(*, username: str, role: str, settings: Settings, now: datetime | None = None) -> AccessToken:
    """A token for ``username`` valid for ``settings.access_token_ttl_s`` seconds."""
    now = now or datetime.now(UTC)
    ttl = settings.access_token_ttl_s
    claims = {"sub": username, "role": role, "iss": ISSUER, "iat": now, "exp": now + timedelta(seconds=ttl)}
    return AccessToken(jwt.encode(claims, _signing_key(settings), algorithm=ALGORITHM), ttl)


def read_token(token: str, *, settings: Settings) -> str:
    """The username a valid token was issued to; Unauthenticated when it is expired, tampered or malformed."""
    try:
        claims = jwt.decode(
            token,
            _signing_key(settings),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the access token has expired: sign in again at /api/auth/token") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid access token ({exc})") from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("invalid access token (no subject)")
    return subject
