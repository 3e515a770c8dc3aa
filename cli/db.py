"""``huegis db``: the local PostGIS cluster, migrations and backups.

Backup errors are the operator's to fix (a wrong file, a full disk), so they exit with code 2.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail
from geo import schema
from geo.cluster import LocalCluster, drop_database, ensure_database
from geo.errors import HueGISError
from geo.settings import Settings, get_settings

db_app = typer.Typer(help="The PostGIS database: local cluster lifecycle and migrations.", no_args_is_help=True)
replica_app = typer.Typer(
    help="Streaming replicas of the local cluster (pg_basebackup -R), for development and tests; "
    "production replicas go in HUEGIS_DB_REPLICA_URLS.",
    no_args_is_help=True,
)
db_app.add_typer(replica_app, name="replica")


def local_cluster(settings: Settings) -> LocalCluster:
    """The project's own cluster; refused when the settings name an external database."""
    if settings.external_db:
        raise typer.BadParameter("DATABASE_URL/PGHOST name an external database: there is no local cluster to manage")
    return LocalCluster(settings)


@db_app.command("start")
def db_start() -> None:
    """Start the project-local PostGIS cluster (initialising it on first use) and create the database."""
    settings = get_settings()
    try:
        if not settings.external_db:
            cluster = local_cluster(settings)
            created = cluster.init()
            cluster.start()
            typer.echo(
                f"PostgreSQL {cluster.install.major} {'initialised and ' if created else ''}running in "
                f"{cluster.dir} on {settings.db_host}:{settings.db_port}"
            )
        ensure_database(settings)
    except HueGISError as exc:
        raise fail(exc) from exc


@db_app.command("stop")
def db_stop(
    immediate: Annotated[bool, typer.Option(help="Crash-stop (pg_ctl -m immediate), as in an outage.")] = False,
) -> None:
    """Stop the local cluster."""
    try:
        local_cluster(get_settings()).stop("immediate" if immediate else "fast")
    except HueGISError as exc:
        raise fail(exc) from exc
    typer.echo("stopped")


@db_app.command("status")
def db_status() -> None:
    """Where the cluster lives, which PostgreSQL, and whether it runs (exit 3 when stopped)."""
    settings = get_settings()
    if settings.external_db:
        typer.echo(f"external database: {settings.db_params()['host']}:{settings.db_params()['port']}")
        return
    try:
        status = local_cluster(settings).status()
    except HueGISError as exc:
        raise fail(exc) from exc
    for key, value in status.items():
        typer.echo(f"{key:12} {value}")
    if not status["running"]:
        raise typer.Exit(code=3)


@db_app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def db_psql(ctx: typer.Context) -> None:
    """Open psql on the platform's database (extra arguments go to psql)."""
    conninfo = get_settings().conninfo()
    os.execvp("psql", ["psql", conninfo, *ctx.args])


@db_app.command("reset")
def db_reset(yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False) -> None:
    """Delete the local cluster and all its data, then start an empty one and migrate it."""
    if not yes:
        typer.confirm("This deletes every table and row of the local cluster. Continue?", abort=True)
    settings = get_settings()
    try:
        local_cluster(settings).reset()
        ensure_database(settings)
    except HueGISError as exc:
        raise fail(exc) from exc
    migrate()


@db_app.command("migrate")
def migrate(revision: Annotated[str, typer.Argument(help="Target revision (heads: every branch).")] = "heads") -> None:
    """Upgrade the schema with Alembic."""
    schema.migrate(revision)


@db_app.command("downgrade")
def downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. base or -1.")]) -> None:
    """Downgrade the schema with Alembic."""
    schema.downgrade(revision)


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


@contextmanager
def _table_progress(desc: str) -> Iterator[Callable[[str], None]]:
    """A callback that counts tables on a progress bar, shown from the first table on."""
    from tqdm import tqdm

    bars: list[tqdm] = []

    def step(table: str) -> None:
        if not bars:
            bars.append(tqdm(desc=desc, unit=" tables", leave=False))
        bars[0].set_postfix_str(table, refresh=False)
        bars[0].update()

    try:
        yield step
    finally:
        for bar in bars:
            bar.close()


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Backup file to write (pg_dump custom format), e.g. huegis.dump.")],
    verify: Annotated[
        bool, typer.Option(help="Restore into a scratch database and compare every table's checksum.")
    ] = False,
) -> None:
    """Back up the platform's database (pg_dump custom format of the server's own major version)."""
    from geo.backup import backup, connect, restore, table_fingerprints

    settings = get_settings()
    try:
        with _table_progress("Backing up") as step:
            summary = backup(settings, file, fingerprints=verify, progress=step)
        typer.echo(
            f"wrote {summary.file}: {_size(summary.size_bytes)}, {summary.tables} tables, {summary.total_rows:,} rows "
            f"of database {summary.database} (PostgreSQL {summary.postgresql}) in {summary.seconds:.1f} s"
        )
        if not verify:
            return
        scratch = f"{summary.database}_verify_{os.getpid()}"
        try:
            with _table_progress("Verifying") as step:
                restore(settings, file, into=scratch, progress=step)
            with connect(settings, dbname=scratch) as conn:
                restored = table_fingerprints(conn)
        finally:
            drop_database(settings, scratch)
        differ = sorted(t for t in summary.fingerprints.keys() | restored.keys()
                        if summary.fingerprints.get(t) != restored.get(t))  # fmt: skip
        if differ:
            raise fail(RuntimeError(f"restored copy differs in {len(differ)} tables: {', '.join(differ)}"), code=2)
        typer.echo(f"verified: a restore holds the same rows and checksums in all {len(restored)} tables")
    except HueGISError as exc:
        raise fail(exc, code=2) from exc


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="Backup file made by `huegis db backup`.")],
    into: Annotated[
        str | None, typer.Option(help="Database to restore into (default: the platform's); created if missing.")
    ] = None,
    clean: Annotated[
        bool, typer.Option("--clean", "--force", help="Drop and recreate the target if it holds tables.")
    ] = False,
) -> None:
    """Restore a backup into a new or empty database (a non-empty one only with --clean)."""
    from geo.backup import check_dump, restore

    settings = get_settings()
    try:
        check_dump(file)
        with _table_progress("Restoring") as step:
            summary = restore(settings, file, into=into, clean=clean, progress=step)
    except HueGISError as exc:
        raise fail(exc, code=2) from exc
    typer.echo(
        f"restored {summary.file} ({_size(summary.size_bytes)}) into database {summary.database}: "
        f"{summary.tables} tables, {summary.total_rows:,} rows in {summary.seconds:.1f} s"
    )
    if summary.database == settings.db_params()["dbname"]:
        typer.echo("restart the app (pygeoapi caches table definitions) and run `huegis ogc openapi` if layers changed")


@db_app.command("fingerprint")
def db_fingerprint(
    database: Annotated[str | None, typer.Option(help="Database to fingerprint (default: the platform's).")] = None,
) -> None:
    """Row count and md5 of every table (primary key order): compare a restored copy with its source."""
    from geo.backup import connect, sequence_values, table_fingerprints

    settings = get_settings()
    try:
        with connect(settings, dbname=database) as conn:
            prints = table_fingerprints(conn)
            sequences = sequence_values(conn)
    except HueGISError as exc:
        raise fail(exc, code=2) from exc
    for table, print_ in prints.items():
        typer.echo(f"{table:40} {print_.rows:>10} {print_.md5}")
    for sequence, value in sequences.items():
        typer.echo(f"{sequence:40} {'' if value is None else value:>10} (sequence)")


# --- replicas ---------------------------------------------------------------------------------

Count = Annotated[
    int | None,
    typer.Option("--count", "-n", min=1, max=8, help="How many (default: HUEGIS_LOCAL_REPLICAS, or those made)."),
]


def _replicas(count: int | None, *, at_least_one: bool = False) -> list:
    from geo.replicas import local_replicas

    replicas = local_replicas(local_cluster(get_settings()), count)
    if not replicas and at_least_one:
        replicas = local_replicas(local_cluster(get_settings()), 1)
    return replicas


@replica_app.command("start")
def replica_start(count: Count = None) -> None:
    """Start the replicas, copying the primary first where none exists (the primary must run)."""
    try:
        for replica in _replicas(count, at_least_one=True):
            created = not replica.initialised
            replica.start()
            done = "copied and running" if created else "running"
            typer.echo(f"{replica.name} {done} in {replica.dir} on port {replica.port}")
    except HueGISError as exc:
        raise fail(exc) from exc


@replica_app.command("stop")
def replica_stop(
    count: Count = None,
    immediate: Annotated[bool, typer.Option(help="Crash-stop (pg_ctl -m immediate), as in an outage.")] = False,
    remove: Annotated[bool, typer.Option(help="Also delete the copies (the next start copies afresh).")] = False,
) -> None:
    """Stop the replicas (the primary keeps running)."""
    try:
        for replica in _replicas(count):
            replica.stop("immediate" if immediate else "fast")
            if remove:
                shutil.rmtree(replica.dir, ignore_errors=True)
            typer.echo(f"{replica.name} {'removed' if remove else 'stopped'}")
    except HueGISError as exc:
        raise fail(exc) from exc


@replica_app.command("status")
def replica_status(
    count: Count = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list (port, pid, state, lag).")] = False,
) -> None:
    """Each replica's port, postmaster pid, state and replay lag (exit 3 if one is not streaming)."""
    try:
        found = [replica.status() for replica in _replicas(count)]
    except HueGISError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(found, indent=1))
    elif not found:
        typer.echo("no replicas (HUEGIS_LOCAL_REPLICAS=0 and none made); `huegis db replica start` makes one")
    for row in [] if as_json else found:
        lag = "" if row["lag_s"] is None else f", lag {row['lag_s']:.3f} s / {row['lag_bytes']} bytes"
        typer.echo(f"{row['name']:8} port {row['port']}  pid {row['pid'] or '-':>7}  {row['state']}{lag}")
    if any(row["state"] != "streaming" for row in found):
        raise typer.Exit(code=3)
