"""Staff accounts and API keys for tests, written straight into a test database (not a test module).

``staff_headers(settings, role, unit=..., department=...)`` makes (once) an account of that role and
scope and returns fresh ``Authorization`` headers: tokens are minted with the settings' secret, the
one the server under test uses, so tests do not spend sign-in attempts (which are rate limited) and
no token outlives its 15 minutes in a long session. Any other test (e.g. a fuzzing run) can use it.
"""

from __future__ import annotations

import hashlib
import secrets

import psycopg

from geo.auth.passwords import hash_password
from geo.auth.tokens import issue_token
from geo.settings import Settings

PASSWORD = "correct horse battery staple"
_made: set[tuple[str, str]] = set()  # (database, username) already written this session
_hash: list[str] = []


def account_name(role: str, unit: str | None = None, department: str | None = None) -> str:
    """The test account of a role and scope: 'test.ward_officer.19753'."""
    return f"test.{role}.{unit or department or 'city'}".lower()


def ensure_account(
    settings: Settings,
    role: str,
    *,
    unit: str | None = None,
    department: str | None = None,
    username: str | None = None,
    password: str = PASSWORD,
) -> str:
    """Create (or reset to this role, scope and password, enabled) a staff account; return its username."""
    username = username or account_name(role, unit, department)
    if (settings.db_name, username) in _made and password == PASSWORD:
        return username
    if password == PASSWORD:
        _hash[:] = _hash or [hash_password(PASSWORD)]  # argon2 is slow on purpose: hash the shared one once
        password_hash = _hash[0]
    else:
        password_hash = hash_password(password)
    with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO staff_users (username, password_hash, role, unit_code, department) "
            "VALUES (%(u)s, %(h)s, %(r)s, %(unit)s, %(d)s) "
            "ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, "
            "unit_code = EXCLUDED.unit_code, department = EXCLUDED.department, disabled = false",
            {"u": username, "h": password_hash, "r": role, "unit": unit, "d": department},
        )
    _made.add((settings.db_name, username))
    return username


def token_version(settings: Settings, username: str) -> int:
    """The account's current token version (bumped by every password, role or disabled change)."""
    with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT token_version FROM staff_users WHERE username = %s", (username,)).fetchone()
    return row[0] if row else 0


def bearer(settings: Settings, username: str, role: str) -> dict[str, str]:
    """Fresh Authorization headers for an existing account (at its current token version)."""
    token = issue_token(username=username, role=role, version=token_version(settings, username), settings=settings)
    return {"Authorization": f"Bearer {token.access_token}"}


def staff_headers(
    settings: Settings,
    role: str,
    *,
    unit: str | None = None,
    department: str | None = None,
    username: str | None = None,
) -> dict[str, str]:
    """Headers of a staff member of ``role`` (scoped to ``unit`` or ``department``), made if needed."""
    name = ensure_account(settings, role, unit=unit, department=department, username=username)
    return bearer(settings, name, role)


def create_api_key(settings: Settings, role: str, name: str | None = None) -> str:
    """A new live API key of a machine role (stored hashed, as ``huegis keys add`` does); returns the key."""
    key = "hgk_test_" + secrets.token_urlsafe(24)
    name = name or f"test.{role}.{secrets.token_hex(4)}"
    with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO api_keys (name, key_hash, role) VALUES (%s, %s, %s)",
            (name, hashlib.sha256(key.encode()).hexdigest(), role),
        )
    return key


def key_headers(settings: Settings, role: str) -> dict[str, str]:
    """Headers of a machine client with a new key of ``role``."""
    return {"X-API-Key": create_api_key(settings, role)}
