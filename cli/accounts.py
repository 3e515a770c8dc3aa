"""``huegis users`` and ``huegis keys``: staff accounts and machine API keys, from the command line.

Whoever can run these can reach the database, so they need no sign-in; each change is in the
audit log as ``cli:<OS user>``. Bad input (role, unit, department, password) exits with code 2
and writes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from psycopg import AsyncConnection

from cli.common import cli_actor, fail, with_connection
from geo.auth import accounts
from geo.auth.passwords import check_password_strength
from geo.auth.roles import KEY_ROLES, ROLES, USER_ROLES
from geo.errors import HueGISError, InvalidInput

T = TypeVar("T")
ROLE_HELP = "; ".join(f"{name}: {ROLES[name].title}" for name in USER_ROLES)
KEY_ROLE_HELP = "; ".join(f"{name}: {ROLES[name].title}" for name in KEY_ROLES)

users_app = typer.Typer(
    help=f"Staff accounts: add, change role, disable, list. Roles: {ROLE_HELP}.", no_args_is_help=True
)
keys_app = typer.Typer(
    help=f"API keys of machine clients: add, revoke, list. Roles: {KEY_ROLE_HELP}.", no_args_is_help=True
)

Unit = Annotated[str | None, typer.Option("--unit", help="Ward/commune code (ward_officer, unit_head of a unit).")]
Department = Annotated[
    str | None, typer.Option("--department", help="City department code (department_officer, unit_head of one).")
]


def _run(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run one service call on a fresh connection; HueGIS errors become a message and an exit code."""

    try:
        return with_connection(work)
    except HueGISError as exc:
        raise fail(exc, code=2 if isinstance(exc, InvalidInput) else 1) from None


def _check(check: Callable[[], Any]) -> None:
    """Validate before prompting for anything: a bad role or scope exits with code 2."""
    try:
        check()
    except InvalidInput as exc:
        raise fail(exc, code=2) from None


def _show(row: dict[str, Any]) -> str:
    scope = row.get("unit_code") or row.get("department") or "city"
    state = "disabled" if row.get("disabled") else "active"
    return f"{row['username']:24} {row['role']:20} {scope:24} {state}"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits and . _ @ -")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(USER_ROLES)}.")],
    unit: Unit = None,
    department: Department = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a staff account; the password is prompted twice (or read from stdin)."""
    _check(lambda: accounts.check_user_role(role, unit_code=unit, department=department))
    password = _read_password(password_stdin)
    _check(lambda: check_password_strength(password))
    user = _run(
        lambda conn: accounts.create_user(
            conn,
            username=username,
            password=password,
            role=role,
            unit_code=unit,
            department=department,
            actor=cli_actor(),
        )
    )
    typer.echo(f"created {_show(user)}")


@users_app.command("role")
def users_role(
    username: Annotated[str, typer.Argument(help="The account to change.")],
    role: Annotated[str, typer.Argument(help=f"One of {', '.join(USER_ROLES)}.")],
    unit: Unit = None,
    department: Department = None,
) -> None:
    """Change an account's role and scope (effective on its next request)."""
    user = _run(
        lambda conn: accounts.set_role(
            conn, username=username, role=role, unit_code=unit, department=department, actor=cli_actor()
        )
    )
    typer.echo(f"changed {_show(user)}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="The account to disable.")]) -> None:
    """Disable an account: refused from its next request on, even with a token that has not expired."""
    user = _run(lambda conn: accounts.set_disabled(conn, username=username, disabled=True, actor=cli_actor()))
    typer.echo(f"disabled {_show(user)}")


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(help="The account to enable again.")]) -> None:
    """Enable a disabled account again."""
    user = _run(lambda conn: accounts.set_disabled(conn, username=username, disabled=False, actor=cli_actor()))
    typer.echo(f"enabled {_show(user)}")


@users_app.command("password")
def users_password(
    username: Annotated[str, typer.Argument(help="The account whose password to replace.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Set a new password (prompted twice, or read from stdin)."""
    password = _read_password(password_stdin)
    _check(lambda: check_password_strength(password))
    _run(lambda conn: accounts.set_password(conn, username=username, password=password, actor=cli_actor()))
    typer.echo(f"password of {username} changed")


@users_app.command("list")
def users_list() -> None:
    """Every account: name, role, unit or department, state."""
    for user in _run(accounts.list_users):
        typer.echo(_show(user))


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="Which client the key is for, e.g. hotline-pbx or open311-huecity")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(KEY_ROLES)}.")],
) -> None:
    """Create a key and print it once (only its SHA-256 is stored: keep it now)."""
    row, key = _run(lambda conn: accounts.create_key(conn, name=name, role=role, actor=cli_actor()))
    typer.echo(f"created key {row['name']} ({row['role']}); it is shown only now:", err=True)
    typer.echo(key)


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key to revoke.")]) -> None:
    """Revoke a key: refused from its next request on."""
    row = _run(lambda conn: accounts.revoke_key(conn, name=name, actor=cli_actor()))
    typer.echo(f"revoked {row['name']} at {row['revoked_at'].isoformat()}")


@keys_app.command("list")
def keys_list() -> None:
    """Every key: name, role, created, last used, revoked (never the key)."""
    for row in _run(accounts.list_keys):
        used = row["last_used_at"].isoformat(timespec="seconds") if row["last_used_at"] else "never used"
        revoked = f"revoked {row['revoked_at'].isoformat(timespec='seconds')}" if row["revoked_at"] else "live"
        typer.echo(f"{row['name']:24} {row['role']:16} {used:26} {revoked}")
