"""The ``huegis`` command: database lifecycle, migrations, data loading, OGC config, serving."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from geo.auth.cli import keys_app, users_app
from geo.errors import HueGISError
from geo.settings import PROJECT_DIR, Settings, get_settings

app = typer.Typer(
    help="HueGIS: the open GIS platform for Thành phố Huế.", no_args_is_help=True, pretty_exceptions_show_locals=False
)
db_app = typer.Typer(help="The PostGIS database: local cluster lifecycle and migrations.", no_args_is_help=True)
ogc_app = typer.Typer(help="pygeoapi (OGC API Features): configuration and OpenAPI document.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ogc_app, name="ogc")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")


def _fail(exc: Exception, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


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


# Backups (geo/backup.py): errors are the operator's to fix, so exit code 2 and no traceback.


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
    from geo.cluster import drop_database

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
            raise _fail(RuntimeError(f"restored copy differs in {len(differ)} tables: {', '.join(differ)}"), code=2)
        typer.echo(f"verified: a restore holds the same rows and checksums in all {len(restored)} tables")
    except HueGISError as exc:
        raise _fail(exc, code=2) from exc


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
        raise _fail(exc, code=2) from exc
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
        raise _fail(exc, code=2) from exc
    for table, print_ in prints.items():
        typer.echo(f"{table:40} {print_.rows:>10} {print_.md5}")
    for sequence, value in sequences.items():
        typer.echo(f"{sequence:40} {'' if value is None else value:>10} (sequence)")


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


# --- operations centre -----------------------------------------------------------------

kpis_app = typer.Typer(help="Report KPIs: the kpi_unit_month choropleth layer.", no_args_is_help=True)
app.add_typer(kpis_app, name="kpis")


@kpis_app.command("refresh")
def kpis_refresh() -> None:
    """Rebuild kpi_unit_month (one row per ward/commune and month) from the reports."""
    import psycopg

    from geo.analytics.kpis import refresh_kpi_unit_month

    with psycopg.connect(get_settings().conninfo(), autocommit=True) as conn:
        rows = refresh_kpi_unit_month(conn)
    typer.echo(f"kpi_unit_month: {rows} unit-months")


# --- synthetic report history ----------------------------------------------------------

synth_app = typer.Typer(help="Seeded synthetic data: the citizen-report history.", no_args_is_help=True)
app.add_typer(synth_app, name="synth")


@synth_app.command("reports")
def synth_reports(
    count: Annotated[int | None, typer.Option(help="Reports (default: HUEGIS_HISTORY_COUNT, 183000).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: HUEGIS_SEED).")] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Day after the last one (default: 2026-11-01).")
    ] = None,
    slow_unit: Annotated[
        list[str] | None, typer.Option("--slow-unit", help="Ward/commune or department code made slow (repeatable).")
    ] = None,
    slow_stage: Annotated[str | None, typer.Option(help="Where slow units dwell: assigned | in_progress.")] = None,
    slow_factor: Annotated[float | None, typer.Option(help="How many times longer they take there (4).")] = None,
    slow_since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Slow only for reports received from this day (default: always)."),
    ] = None,
    on_time_share: Annotated[float | None, typer.Option(help="2022 share resolved by the deadline (0.511).")] = None,
    on_time_trend: Annotated[float | None, typer.Option(help="Change of that share per year (0.03).")] = None,
    force: Annotated[bool, typer.Option(help="Reload even when nothing changed.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Generate and print the figures; leave the database alone.")] = False,
) -> None:
    """Generate the citizen-report history (2019 → --until) and load it: COPY, one transaction, synthetic rows only."""
    from layers.reports_history import build_history, describe, describe_kpis, history_params, load_history

    settings = get_settings()
    given = {"count": count, "seed": seed, "until": until.date() if until else None, "slow_stage": slow_stage,
             "slow_units": tuple(slow_unit) if slow_unit else None, "slow_factor": slow_factor,
             "slow_since": slow_since.date() if slow_since else None,
             "on_time_share": on_time_share, "on_time_trend": on_time_trend}  # fmt: skip
    try:
        params = history_params(settings, **{k: v for k, v in given.items() if v is not None})
        if dry_run:
            params.validate()
            typer.echo(describe_kpis(build_history(settings, params).manifest["kpis"]))
            return
        typer.echo(describe(load_history(settings, params, force=force)))
    except (HueGISError, ValueError) as exc:
        raise _fail(exc) from exc


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


# --- web maps (issue 7) ---------------------------------------------------------------

maps_app = typer.Typer(help="Planners' web maps (folium): standalone HTML export.", no_args_is_help=True)
app.add_typer(maps_app, name="maps")


@maps_app.command("export")
def maps_export(
    directory: Annotated[Path, typer.Argument(help="Where to write the HTML files (created if missing).")],
    only: Annotated[list[str] | None, typer.Option("--only", help="Export just these maps.")] = None,
    lang: Annotated[str, typer.Option(help="Page language: vi or en.")] = "vi",
) -> None:
    """Write every web map as a standalone HTML file (libraries copied to DIR/vendor; no network needed)."""
    import asyncio

    from psycopg import AsyncConnection

    from geo.maps import export_maps

    if lang not in ("vi", "en"):
        raise typer.BadParameter(f"--lang must be vi or en, not {lang!r}")

    async def run() -> list[Path]:
        async with await AsyncConnection.connect(get_settings().conninfo()) as conn:
            return await export_maps(conn, directory, names=only, lang=lang)  # type: ignore[arg-type]

    try:
        written = asyncio.run(run())
    except HueGISError as exc:
        raise _fail(exc) from exc
    for path in written:
        typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


# --- hot spots (issue 6) ----------------------------------------------------------------

hotspots_app = typer.Typer(help="Hot spots, emerging hot spots and forecasts of reports, with a backtest.",
                           no_args_is_help=True)  # fmt: skip
app.add_typer(hotspots_app, name="hotspots")


@hotspots_app.command("backtest")
def hotspots_backtest(
    events: Annotated[
        Path | None,
        typer.Option(
            help="CSV of events: id, created_at, category, lat, lon (default: Huế's citizen reports in the database)."
        ),
    ] = None,
    boundary: Annotated[
        Path | None,
        typer.Option(
            help="Study area (GeoJSON polygons; default: the events' convex hull, or Huế's land for the database)."
        ),
    ] = None,
    period: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    cell_m: Annotated[float, typer.Option("--cell-m", help="Hexagon edge in metres.")] = 250.0,
    tz: Annotated[str, typer.Option(help="IANA zone of CSV times without an offset (periods are cut in it).")] = "UTC",
    origins: Annotated[int | None, typer.Option(help="Rolling origins (default 56 days/52 weeks/12 months).")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="Only these categories.")] = None,
    skip_bad_dates: Annotated[bool, typer.Option(help="Skip rows whose created_at does not parse.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the model and the bootstrap.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Rolling-origin backtest of the forecast model and baselines: hit rate, PAI, PEI at 1/5/10/20 % of the area."""
    import json
    import math

    from geo.analytics.backtest import run_backtest
    from geo.analytics.events import place_events, read_boundary, read_events_csv
    from geo.analytics.grid import categories_filter, check_period
    from geo.errors import InvalidInput

    try:
        check_period(period)
        if not math.isfinite(cell_m) or cell_m <= 0:
            raise InvalidInput(f"--cell-m must be a positive number of metres, got {cell_m:g}")
        area = read_boundary(boundary) if boundary else None
        if events is None:
            placed = _hue_events(category, area)
        else:
            raw = read_events_csv(events, tz=tz, skip_bad_dates=skip_bad_dates)
            if category:
                raw = raw.subset(categories_filter(raw.category, category), what=f"of categories {category}")
            placed = place_events(raw, boundary=area, boundary_name=str(boundary) if boundary else "boundary")
        typer.echo(f"backtesting {len(placed):,} events in EPSG:{placed.epsg} ...", err=True)
        report = run_backtest(placed, period=period, cell_m=cell_m, origins=origins, seed=seed)
    except HueGISError as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if as_json else report.table())


def _hue_events(category: list[str] | None, area):
    """Huế's reports from the database, in Huế's land (or ``area``), in Huế time."""
    import asyncio

    from psycopg import AsyncConnection

    from geo.analytics import hotspot_run
    from geo.analytics.events import place_events
    from geo.analytics.grid import categories_filter

    async def read():
        async with await AsyncConnection.connect(get_settings().conninfo()) as conn:
            raw, _ = await hotspot_run.read_report_events(conn)
            land = area if area is not None else await hotspot_run.read_study_area(conn)
        return raw, land

    raw, land = asyncio.run(read())
    if category:
        raw = raw.subset(categories_filter(raw.category, category), what=f"of categories {category}")
    return place_events(raw, boundary=land, boundary_name=hotspot_run.HUE_AREA_NAME if area is None else "boundary")


@hotspots_app.command("run")
def hotspots_run(
    period: Annotated[str, typer.Option(help="Forecast period: day, week or month.")] = "week",
    cell_m: Annotated[float, typer.Option("--cell-m", help="Hexagon edge in metres.")] = 250.0,
    category: Annotated[str | None, typer.Option(help="Only this report category.")] = None,
    origins: Annotated[int, typer.Option(help="Backtest origins that choose the model.")] = 8,
    ehsa_period: Annotated[str, typer.Option(help="Emerging hot-spot slice: day, week or month.")] = "month",
    ehsa_slices: Annotated[int, typer.Option(help="Emerging hot-spot slices.")] = 12,
) -> None:
    """Run Gi*, emerging hot spots, the backtest and the forecast on Huế's reports; publish the three layers."""
    import asyncio
    import getpass
    import json

    from psycopg import AsyncConnection

    from geo.analytics import hotspot_run
    from geo.audit import Actor

    params = hotspot_run.RunParams(period=period, cell_m=cell_m, category=category, origins=origins,
                                   ehsa_period=ehsa_period, ehsa_slices=ehsa_slices)  # fmt: skip

    async def run():
        async with await AsyncConnection.connect(get_settings().conninfo()) as conn:
            # Named as geo/auth/cli.py names CLI actors, so CLI runs are in the audit log too.
            return await hotspot_run.run_hotspots(conn, params, actor=Actor(f"cli:{getpass.getuser()}", "cli"))

    try:
        params.validate()
        result = asyncio.run(run())
    except HueGISError as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps({k: result[k] for k in ("run_id", "rows", "chosen_model", "summary")}, indent=2))


# --- all together ---------------------------------------------------------------------


@app.command("setup")
def setup() -> None:
    """Start the database, migrate, load the data and generate the OpenAPI document."""
    db_start()
    migrate()
    load(only=None, force=False)
    synth_reports()  # the report history (settings.history_count), before the KPIs computed from it
    kpis_refresh()
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
    # proxy_headers off: the app itself decides whose X-Forwarded-For to believe (trusted_proxies).
    uvicorn.run("api.main:create_app", factory=True, host=settings.host, port=settings.port, reload=reload,
                proxy_headers=False)  # fmt: skip


if __name__ == "__main__":
    app()
