"""The ``huegis`` command: database lifecycle, migrations, data loading, OGC config, serving."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from geo.errors import HueGISError
from geo.settings import PROJECT_DIR, Settings, get_settings

app = typer.Typer(
    help="HueGIS: the open GIS platform for Thành phố Huế.", no_args_is_help=True, pretty_exceptions_show_locals=False
)
db_app = typer.Typer(help="The PostGIS database: local cluster lifecycle and migrations.", no_args_is_help=True)
ogc_app = typer.Typer(help="pygeoapi (OGC API Features): configuration and OpenAPI document.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ogc_app, name="ogc")


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _cluster(settings: Settings):
    from geo.cluster import LocalCluster

    if settings.external_db:
        raise typer.BadParameter("DATABASE_URL/PGHOST name an external database: there is no local cluster to manage")
    return LocalCluster(settings)


# --- database -------------------------------------------------------------------------


@db_app.command("start")
def db_start() -> None:
    """Start the project-local PostGIS cluster (initialising it on first use) and create the database."""
    from geo.cluster import ensure_database

    settings = get_settings()
    try:
        if not settings.external_db:
            cluster = _cluster(settings)
            created = cluster.init()
            cluster.start()
            typer.echo(
                f"PostgreSQL {cluster.install.major} {'initialised and ' if created else ''}running in "
                f"{cluster.dir} on {settings.db_host}:{settings.db_port}"
            )
        ensure_database(settings)
    except HueGISError as exc:
        raise _fail(exc) from exc


@db_app.command("stop")
def db_stop(
    immediate: Annotated[bool, typer.Option(help="Crash-stop (pg_ctl -m immediate), as in an outage.")] = False,
) -> None:
    """Stop the local cluster."""
    try:
        _cluster(get_settings()).stop("immediate" if immediate else "fast")
    except HueGISError as exc:
        raise _fail(exc) from exc
    typer.echo("stopped")


@db_app.command("status")
def db_status() -> None:
    """Where the cluster lives, which PostgreSQL, and whether it runs (exit 3 when stopped)."""
    settings = get_settings()
    if settings.external_db:
        typer.echo(f"external database: {settings.db_params()['host']}:{settings.db_params()['port']}")
        return
    try:
        status = _cluster(settings).status()
    except HueGISError as exc:
        raise _fail(exc) from exc
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
    from geo.cluster import ensure_database

    settings = get_settings()
    try:
        _cluster(settings).reset()
        ensure_database(settings)
    except HueGISError as exc:
        raise _fail(exc) from exc
    migrate()


@db_app.command("migrate")
def migrate(revision: Annotated[str, typer.Argument(help="Target revision (heads: every branch).")] = "heads") -> None:
    """Upgrade the schema with Alembic."""
    from alembic import command

    command.upgrade(alembic_config(), revision)


@db_app.command("downgrade")
def downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. base or -1.")]) -> None:
    """Downgrade the schema with Alembic."""
    from alembic import command

    command.downgrade(alembic_config(), revision)


def alembic_config(url: str | None = None):
    """Alembic configuration read from pyproject.toml, pointed at the platform's database."""
    from alembic.config import Config

    config = Config(toml_file=str(PROJECT_DIR / "pyproject.toml"))
    config.attributes["url"] = url or get_settings().sqlalchemy_url()
    return config


# --- data -----------------------------------------------------------------------------


@app.command("load")
def load(
    only: Annotated[list[str] | None, typer.Option("--only", help="Load just these layer ids.")] = None,
    force: Annotated[bool, typer.Option(help="Reload even when the input has not changed.")] = False,
) -> None:
    """Load Huế's layers (shipped real data and seeded synthetic layers); unchanged inputs are skipped."""
    from layers.loaders import load_layers

    try:
        results = load_layers(get_settings(), only=only, force=force)
    except (HueGISError, KeyError) as exc:
        raise _fail(exc) from exc
    for result in results:
        typer.echo(f"{result.layer_id:22} {result.rows:>7} rows  {'loaded' if result.loaded else 'unchanged'}")


# --- OGC ------------------------------------------------------------------------------


@ogc_app.command("config")
def ogc_config(
    check: Annotated[bool, typer.Option(help="Exit 1 if pygeoapi-config.yml differs from the registry.")] = False,
) -> None:
    """Write pygeoapi-config.yml from the layer registry."""
    from layers.ogc import render_pygeoapi_config

    path = get_settings().pygeoapi_config
    rendered = render_pygeoapi_config()
    if check:
        if not path.exists() or path.read_text() != rendered:
            raise _fail(ValueError(f"{path} is out of date: run `huegis ogc config`"))
        typer.echo(f"{path} matches the registry")
        return
    path.write_text(rendered)
    typer.echo(f"wrote {path}")


@ogc_app.command("openapi")
def ogc_openapi() -> None:
    """Generate pygeoapi's OpenAPI document (needs the database: pygeoapi reflects the tables)."""
    settings = get_settings()
    try:
        generate_openapi(settings)
    except subprocess.CalledProcessError as exc:
        raise _fail(RuntimeError(f"pygeoapi openapi generate failed:\n{exc.stderr}")) from exc
    typer.echo(f"wrote {settings.pygeoapi_openapi}")


def generate_openapi(settings: Settings) -> Path:
    """Run ``pygeoapi openapi generate`` with the resolved settings in its environment."""
    settings.export_pygeoapi_env()
    settings.pygeoapi_openapi.parent.mkdir(parents=True, exist_ok=True)
    pygeoapi = Path(sys.executable).with_name("pygeoapi")
    subprocess.run(
        [str(pygeoapi), "openapi", "generate", str(settings.pygeoapi_config),
         "--output-file", str(settings.pygeoapi_openapi)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return settings.pygeoapi_openapi


# --- all together ---------------------------------------------------------------------


@app.command("setup")
def setup() -> None:
    """Start the database, migrate, load the data and generate the OpenAPI document."""
    db_start()
    migrate()
    load(only=None, force=False)
    ogc_openapi()


@app.command("serve")
def serve(
    prepare: Annotated[bool, typer.Option(help="Run `huegis setup` first.")] = True,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the platform (API, OGC API Features, pages) on one port."""
    import uvicorn

    settings = get_settings()
    if prepare:
        setup()
    base = settings.public_url.rstrip("/")
    typer.secho("\nHueGIS is starting:", bold=True)
    for label, path in (("Home", "/"), ("OGC API Features", "/ogc"), ("API docs", "/docs"), ("Health", "/healthz")):
        typer.echo(f"  {label:18} {base}{path}")
    typer.echo("")
    uvicorn.run("api.main:create_app", factory=True, host=settings.host, port=settings.port, reload=reload)


if __name__ == "__main__":
    app()
