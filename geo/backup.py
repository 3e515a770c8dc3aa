"""Backups of the platform's database: ``pg_dump`` custom format, ``pg_restore``, table fingerprints.

The dump is taken by the PostgreSQL client tools of the server's own major version
(``/usr/lib/postgresql/<major>/bin``, as the local cluster uses; else the ones on ``PATH``). A
backup is written to ``FILE.partial`` and renamed when complete, so a file with the final name
is always a whole dump. A restore goes into a new or empty database in one transaction: it
either completes or leaves nothing. Fingerprints (row count and an md5 of the rows in primary
key order per table) prove a restored copy holds the same data.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from geo.cluster import PG_ROOT
from geo.db import load_sql
from geo.errors import DatabaseUnavailable, HueGISError, InvalidInput
from geo.settings import Settings

MAGIC = b"PGDMP"  # first bytes of every pg_dump custom-format archive
DUMPING = re.compile(r'dumping contents of table "(?P<table>[^"]+)"')
RESTORING = re.compile(r'processing data for table "(?P<table>[^"]+)"')

Progress = Callable[[str], None]


class BackupError(HueGISError):
    """pg_dump or pg_restore failed, or the target of a restore is not usable."""


@dataclass(frozen=True)
class Fingerprint:
    """What one table holds: its row count and an md5 of its rows in primary key order."""

    rows: int
    md5: str


@dataclass(frozen=True)
class Summary:
    """What a backup or restore moved."""

    file: Path
    database: str
    postgresql: int
    size_bytes: int
    rows: dict[str, int]
    seconds: float
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)

    @property
    def tables(self) -> int:
        return len(self.rows)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# --- fingerprints -------------------------------------------------------------------------


def user_tables(conn: psycopg.Connection) -> list[tuple[str, str, list[str]]]:
    """(schema, table, primary key columns) of the platform's tables, extensions' excluded."""
    return [(s, t, list(pk)) for s, t, pk in conn.execute(load_sql("backup/user_tables")).fetchall()]


def table_fingerprints(conn: psycopg.Connection) -> dict[str, Fingerprint]:
    """Row count and md5 of the rows (primary key order, geometry as EWKB) of every table.

    Sets the session's time zone and output styles first, so the text of a row, and with it the
    checksum, is the same on any server holding the same data.
    """
    conn.execute(load_sql("backup/session"))
    result = {}
    for schema, table, key in user_tables(conn):
        # Without a primary key the whole row orders the rows (as text, so any type sorts).
        order = sql.SQL(", ").join(sql.Identifier("t", c) for c in key) if key else sql.SQL("t::text")
        query = sql.SQL(load_sql("backup/fingerprint")).format(table=sql.Identifier(schema, table), order=order)
        rows, digest = conn.execute(query).fetchone() or (0, "")
        result[f"{schema}.{table}"] = Fingerprint(rows, digest)
    return result


def sequence_values(conn: psycopg.Connection) -> dict[str, int | None]:
    """Where every sequence stands (None: never used), so restored ids continue where they were."""
    return {f"{s}.{n}": value for s, n, value in conn.execute(load_sql("backup/sequences")).fetchall()}


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Exact row count of every table."""
    counts = {}
    for schema, table, _ in user_tables(conn):
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        counts[f"{schema}.{table}"] = (conn.execute(query).fetchone() or (0,))[0]
    return counts


# --- connecting and the client tools ---------------------------------------------------------


def connect(settings: Settings, dbname: str | None = None, **kwargs: object) -> psycopg.Connection:
    """A connection to the platform's database (or ``dbname`` on its server); DatabaseUnavailable if down."""
    overrides = {"dbname": dbname} if dbname else {}
    try:
        return psycopg.connect(settings.conninfo(**overrides), **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        params = settings.db_params()
        raise DatabaseUnavailable(
            f"cannot connect to database {dbname or params['dbname']!r} at {params['host']}:{params['port']}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
        ) from exc


def _server_major(conn: psycopg.Connection) -> int:
    return conn.info.server_version // 10000


def client_tool(name: str, major: int) -> str:
    """``pg_dump``/``pg_restore`` of the server's major version (older ones cannot read newer servers)."""
    same = PG_ROOT / str(major) / "bin" / name
    if same.exists():
        return str(same)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL {major} client (postgresql-client-{major})")
    return found


def _tool_args(settings: Settings, dbname: str) -> tuple[list[str], dict[str, str]]:
    """``--dbname`` without the password (it would show in ``ps``) and an environment holding it."""
    params = conninfo_to_dict(settings.conninfo(dbname=dbname))
    env = dict(os.environ)
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    return [f"--dbname={make_conninfo(**params)}"], env  # type: ignore[arg-type]


def _run(cmd: list[str], env: dict[str, str], pattern: re.Pattern[str], progress: Progress | None) -> None:
    """Run a client tool with ``--verbose``, reporting each table it reaches; errors raise BackupError."""
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    errors = []
    for line in proc.stderr:
        if match := pattern.search(line):
            if progress:
                progress(match["table"])
        elif "error" in line or "FATAL" in line or "DETAIL" in line or "HINT" in line:
            errors.append(line.strip())
    if proc.wait() != 0:
        tool = Path(cmd[0]).name
        raise BackupError(f"{tool} failed: " + (" ".join(errors) or f"exit code {proc.returncode}"))


# --- backup --------------------------------------------------------------------------------


def backup(settings: Settings, file: Path, *, fingerprints: bool = False, progress: Progress | None = None) -> Summary:
    """Dump the platform's database to ``file`` (custom format), consistent to one moment.

    The counts (and with ``fingerprints``, the checksums) are taken in the dump's own snapshot,
    so they describe exactly what the file holds, even while the platform keeps writing.
    """
    file = Path(file)
    if file.is_dir():
        raise InvalidInput(f"{file} is a directory: name the backup file, e.g. {file / 'huegis.dump'}")
    if not file.parent.is_dir():
        raise InvalidInput(f"directory {file.parent} does not exist")
    dbname = settings.db_params()["dbname"]
    started = time.monotonic()
    partial = file.with_name(file.name + ".partial")
    with connect(settings) as conn:
        # One snapshot shared with pg_dump: what we count is what it dumps.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = (conn.execute("SELECT pg_export_snapshot()").fetchone() or ("",))[0]
        major = _server_major(conn)
        args, env = _tool_args(settings, dbname)
        cmd = [client_tool("pg_dump", major), *args, "--format=custom", "--verbose",
               f"--snapshot={snapshot}", f"--file={partial}"]  # fmt: skip
        try:
            _run(cmd, env, DUMPING, progress)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        prints = table_fingerprints(conn) if fingerprints else {}
        rows = {name: p.rows for name, p in prints.items()} if prints else row_counts(conn)
        conn.rollback()
    partial.replace(file)
    return Summary(file, dbname, major, file.stat().st_size, rows, time.monotonic() - started, prints)


# --- restore -------------------------------------------------------------------------------


def check_dump(file: Path) -> None:
    """InvalidInput unless ``file`` is a pg_dump custom-format archive."""
    file = Path(file)
    if not file.exists():
        raise InvalidInput(f"no backup file {file}")
    if not file.is_file():
        raise InvalidInput(f"{file} is not a file")
    with file.open("rb") as fh:
        head = fh.read(len(MAGIC))
    if head != MAGIC:
        raise InvalidInput(
            f"{file} is not a pg_dump custom-format backup (it does not start with {MAGIC.decode()}); "
            "make backups with `huegis db backup FILE`"
        )


def _prepare_target(settings: Settings, name: str, *, clean: bool) -> None:
    """Create database ``name`` if missing; refuse one that holds tables unless ``clean`` (then recreate it)."""
    target = sql.Identifier(name)
    with connect(settings, dbname="postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not clean:
            with connect(settings, dbname=name) as conn:
                tables = len(user_tables(conn))
            if tables:
                raise BackupError(
                    f"database {name!r} is not empty ({tables} tables): restore into a new one with "
                    f"--into NAME, or pass --clean to drop and recreate {name!r} (its data is lost)"
                )
            return
        try:
            if exists:
                # WITH (FORCE): the app's pooled connections would otherwise block the drop.
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(target))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(target))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise BackupError(
                f"not allowed to create database {name!r} ({exc}); create it empty yourself, then restore --into it"
            ) from exc


def restore(
    settings: Settings,
    file: Path,
    *,
    into: str | None = None,
    clean: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Restore ``file`` into database ``into`` (default: the platform's), created if missing.

    A database that already holds tables is refused unless ``clean`` (dropped and recreated).
    The restore runs in a single transaction: on any error the target is left empty.
    """
    file = Path(file)
    check_dump(file)
    name = into or settings.db_params()["dbname"]
    started = time.monotonic()
    with connect(settings, dbname="postgres") as probe:
        major = _server_major(probe)
    tool = client_tool("pg_restore", major)
    listing = subprocess.run([tool, "--list", str(file)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise InvalidInput(f"{file} is not a readable backup: {listing.stderr.strip()}")
    _prepare_target(settings, name, clean=clean)
    args, env = _tool_args(settings, name)
    cmd = [tool, *args, "--single-transaction", "--exit-on-error", "--no-owner", "--verbose", str(file)]
    _run(cmd, env, RESTORING, progress)
    with connect(settings, dbname=name, autocommit=True) as conn:
        conn.execute("ANALYZE")  # pg_restore leaves the planner without statistics
        rows = row_counts(conn)
    return Summary(file, name, major, file.stat().st_size, rows, time.monotonic() - started)
