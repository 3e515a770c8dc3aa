"""What every command shares: errors as an exit code, the CLI actor, a connection for one call."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from psycopg import AsyncConnection

from geo.audit import Actor
from geo.settings import get_settings

T = TypeVar("T")


def fail(exc: Exception, code: int = 1) -> typer.Exit:
    """Print the error in red on stderr and return the exit to raise (no traceback)."""
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


def cli_actor() -> Actor:
    """Whoever runs the CLI, as the audit log names them (``cli:<OS user>``)."""
    return Actor(f"cli:{getpass.getuser()}", "cli")


def with_connection(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run one async service call on a fresh autocommit connection to the platform's database."""

    async def main() -> T:
        async with await AsyncConnection.connect(get_settings().conninfo(), autocommit=True) as conn:
            return await work(conn)

    return asyncio.run(main())
