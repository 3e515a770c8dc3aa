"""Staff accounts and machine API keys: create, change, disable or revoke, list, and sign in.

Every change is written to the audit log in the same transaction. Accounts and keys are looked
up on every request (one indexed query), so a disabled account or a revoked key is refused at once,
even while one of its tokens has not expired.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from typing import Any

from psycopg import AsyncConnection, errors
from psycopg.rows import dict_row

from geo import audit
from geo.admin import check_department, check_ward
from geo.audit import Actor
from geo.auth.errors import Unauthenticated
from geo.auth.passwords import hash_password, verify_password
from geo.auth.policy import Principal, check_scope
from geo.auth.roles import KEY_ROLES, ROLES, USER_ROLES
from geo.auth.tokens import TokenClaims
from geo.db import fetch_all, fetch_one, load_sql
from geo.errors import Conflict, InvalidInput, NotFound

NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")
KEY_PREFIX = "hgk_"  # recognisable in logs and secret scanners


def _check_name(kind: str, name: str) -> str:
    if not NAME.fullmatch(name):
        raise InvalidInput(f"{kind} {name!r} must be 2-64 characters: lower-case letters, digits and . _ @ -")
    return name


def check_user_role(role: str, *, unit_code: str | None, department: str | None) -> None:
    """InvalidInput unless ``role`` is a staff role and is given the unit or department it needs."""
    if role not in USER_ROLES:
        kind = "a machine role (use huegis keys add)" if role in KEY_ROLES else "unknown"
        raise InvalidInput(f"role {role!r} is {kind}; staff roles: {', '.join(USER_ROLES)}")
    check_scope(role, unit_code=unit_code, department=department)


async def _check_role_scope(conn: AsyncConnection, role: str, unit_code: str | None, department: str | None) -> None:
    """InvalidInput unless the role is a staff role and its unit/department exist and fit it."""
    check_user_role(role, unit_code=unit_code, department=department)
    if unit_code is not None:
        await check_ward(conn, unit_code)
    if department is not None:
        await check_department(conn, department)


# --- staff accounts ---------------------------------------------------------------------


async def create_user(
    conn: AsyncConnection,
    *,
    username: str,
    password: str,
    role: str,
    unit_code: str | None = None,
    department: str | None = None,
    actor: Actor,
) -> dict[str, Any]:
    """A new account; Conflict if the username is taken, InvalidInput for a bad role, scope or password."""
    _check_name("username", username)
    await _check_role_scope(conn, role, unit_code, department)
    params = {
        "username": username,
        "password_hash": hash_password(password),
        "role": role,
        "unit_code": unit_code,
        "department": department,
    }
    try:
        async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(load_sql("auth/user_insert"), params)
            user = await cur.fetchone()
            assert user is not None
            await audit.record(
                conn,
                actor=actor,
                action="user_create",
                object_type="staff_user",
                object_id=username,
                details={"role": role, "unit_code": unit_code, "department": department},
            )
    except errors.UniqueViolation:
        raise Conflict(f"a staff account named {username!r} already exists") from None
    return user


async def _update_user(
    conn: AsyncConnection, sql_name: str, params: dict[str, Any], *, actor: Actor, action: str, details: dict[str, Any]
) -> dict[str, Any]:
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql(sql_name), params)
        user = await cur.fetchone()
        if user is None:
            raise NotFound(f"no staff account named {params['username']!r}")
        await audit.record(
            conn, actor=actor, action=action, object_type="staff_user", object_id=params["username"], details=details
        )
    return user


async def set_role(
    conn: AsyncConnection,
    *,
    username: str,
    role: str,
    unit_code: str | None = None,
    department: str | None = None,
    actor: Actor,
) -> dict[str, Any]:
    """Change an account's role and scope (effective on its next request)."""
    await _check_role_scope(conn, role, unit_code, department)
    scope = {"role": role, "unit_code": unit_code, "department": department}
    return await _update_user(
        conn, "auth/user_set_role", {"username": username, **scope}, actor=actor, action="user_role", details=scope
    )


async def set_disabled(conn: AsyncConnection, *, username: str, disabled: bool = True, actor: Actor) -> dict[str, Any]:
    """Disable an account (refused from its next request on), or enable it again."""
    return await _update_user(
        conn,
        "auth/user_set_disabled",
        {"username": username, "disabled": disabled},
        actor=actor,
        action="user_disable" if disabled else "user_enable",
        details={},
    )


async def set_password(conn: AsyncConnection, *, username: str, password: str, actor: Actor) -> None:
    """Replace an account's password."""
    params = {"username": username, "password_hash": hash_password(password)}
    await _update_user(conn, "auth/user_set_password", params, actor=actor, action="user_password", details={})


async def list_users(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every account with its role, scope and state (no hashes)."""
    return await fetch_all(conn, "auth/users")


async def _account(conn: AsyncConnection, username: str) -> dict[str, Any] | None:
    return await fetch_one(conn, "auth/user_by_name", {"username": username})


def _principal(row: dict[str, Any]) -> Principal:
    return Principal(row["username"], row["role"], row["unit_code"], row["department"], kind="user",
                     token_version=row["token_version"])  # fmt: skip


async def authenticate(conn: AsyncConnection, *, username: str, password: str, client: str | None = None) -> Principal:
    """The account a username and password prove; Unauthenticated otherwise (audited either way).

    The message does not say whether the name or the password was wrong.
    """
    name = username.strip().lower()
    row = await _account(conn, name) if NAME.fullmatch(name) else None
    # argon2 takes ~0.16 s of CPU by design: off the event loop, so sign-ins do not stall the app.
    valid = await asyncio.to_thread(verify_password, row["password_hash"] if row else None, password)
    reason = (
        "unknown user" if row is None else "wrong password" if not valid else "disabled" if row["disabled"] else None
    )
    role = row["role"] if row else "anonymous"
    details = {"client": client} if client else {}
    if reason is not None:
        await audit.record(
            conn,
            actor=Actor(name[:100] or "?", role),
            action="login_failed",
            object_type="staff_user",
            object_id=name[:100],
            details={**details, "reason": reason},
        )
        raise Unauthenticated("incorrect username or password, or the account is disabled")
    assert row is not None
    await audit.record(
        conn, actor=Actor(name, role), action="login", object_type="staff_user", object_id=name, details=details
    )
    return _principal(row)


async def principal_for_user(conn: AsyncConnection, claims: TokenClaims) -> Principal:
    """The current role and scope of a token's account; Unauthenticated if it is gone, disabled or changed since."""
    row = await _account(conn, claims.username)
    if row is None or row["disabled"]:
        raise Unauthenticated(f"the account {claims.username!r} is disabled or no longer exists")
    if row["token_version"] != claims.version:
        raise Unauthenticated("the access token was issued before the account's password or role changed")
    return _principal(row)


# --- API keys ---------------------------------------------------------------------------


def key_hash(key: str) -> str:
    """What is stored of a key: its SHA-256 (keys are long random strings, so no salt or slow hash is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(conn: AsyncConnection, *, name: str, role: str, actor: Actor) -> tuple[dict[str, Any], str]:
    """A new key for a machine client: (its row, the plaintext key, shown this once)."""
    _check_name("key name", name)
    if role not in KEY_ROLES:
        raise InvalidInput(f"role {role!r} is not a machine role; one of {', '.join(KEY_ROLES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(load_sql("auth/key_insert"), {"name": name, "key_hash": key_hash(key), "role": role})
            row = await cur.fetchone()
            assert row is not None
            await audit.record(
                conn, actor=actor, action="key_create", object_type="api_key", object_id=name, details={"role": role}
            )
    except errors.UniqueViolation:
        raise Conflict(f"an API key named {name!r} already exists") from None
    return row, key


async def revoke_key(conn: AsyncConnection, *, name: str, actor: Actor) -> dict[str, Any]:
    """Revoke a key (refused from its next request on); NotFound if there is no live key of that name."""
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("auth/key_revoke"), {"name": name})
        row = await cur.fetchone()
        if row is None:
            raise NotFound(f"no live API key named {name!r}")
        await audit.record(conn, actor=actor, action="key_revoke", object_type="api_key", object_id=name)
    return row


async def list_keys(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every key with its role and dates (never the key)."""
    return await fetch_all(conn, "auth/keys")


async def principal_for_key(conn: AsyncConnection, key: str) -> Principal:
    """The machine client a live key stands for (its use is recorded); Unauthenticated otherwise."""
    row = await fetch_one(conn, "auth/key_use", {"key_hash": key_hash(key)})
    if row is None or row["role"] not in ROLES:
        raise Unauthenticated("invalid or revoked API key")
    return Principal(row["name"], row["role"], kind="api_key")
