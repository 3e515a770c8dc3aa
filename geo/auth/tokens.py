"""Short-lived signed access tokens (JWT, HS256) for staff accounts.

A token carries its account's ``ver`` (``staff_users.token_version``): a password change, a disable
or a role change bumps the version in the database, and every earlier token stops working. A token
whose lifetime (``exp - iat``) is longer than ``Settings.access_token_ttl_s`` is refused, even when
correctly signed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from geo.auth.errors import Unauthenticated
from geo.settings import Settings

ALGORITHM = "HS256"
ISSUER = "huegis"
LEEWAY_S = 30  # clocks of the machines that issue and check tokens may differ this much


def _signing_key(settings: Settings) -> bytes:
    """A key of its own for staff tokens, derived from the secret (which also signs citizens' follow tokens)."""
    return hashlib.sha256(b"huegis staff access tokens\0" + settings.secret_key.encode()).digest()


@dataclass(frozen=True)
class AccessToken:
    """A token as the OAuth2 password flow returns it."""

    access_token: str
    expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is and which version of the account it was issued for."""

    username: str
    version: int


def issue_token(
    *, username: str, role: str, version: int, settings: Settings, now: datetime | None = None
) -> AccessToken:
    """A token for ``username`` (at account ``version``) valid for ``settings.access_token_ttl_s`` seconds."""
    now = now or datetime.now(UTC)
    ttl = settings.access_token_ttl_s
    claims = {"sub": username, "role": role, "ver": version, "iss": ISSUER, "iat": now,
              "exp": now + timedelta(seconds=ttl)}  # fmt: skip
    return AccessToken(jwt.encode(claims, _signing_key(settings), algorithm=ALGORITHM), ttl)


def read_token(token: str, *, settings: Settings) -> TokenClaims:
    """Whose a valid token is; Unauthenticated when it is expired, too long-lived, tampered or malformed."""
    try:
        claims = jwt.decode(
            token,
            _signing_key(settings),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            leeway=LEEWAY_S,
            options={"require": ["sub", "exp", "iat", "iss", "ver"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the access token has expired") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("invalid access token") from None
    subject, version, lifetime = claims["sub"], claims["ver"], claims["exp"] - claims["iat"]
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("invalid access token (no subject)")
    if not isinstance(version, int) or isinstance(version, bool):
        raise Unauthenticated("invalid access token (no account version)")
    if lifetime > (ttl := settings.access_token_ttl_s):
        raise Unauthenticated(f"invalid access token (it claims to last {lifetime} s; tokens last at most {ttl} s)")
    return TokenClaims(subject, version)
