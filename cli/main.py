"""``huegis``: every command group, plus ``setup`` and ``serve`` that chain them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from cli.accounts import keys_app, users_app
from cli.data import hotspots_first_run, kpis_app, kpis_refresh, load, synth_app, synth_reports
from cli.db import db_app, db_start, migrate, replica_start
from cli.exchange import export_command, import_command, layers_app, qgis_app
from cli.hotspots import hotspots_app
from cli.maps import maps_app
from cli.ogc import ogc_app, ogc_openapi
from cli.planning import planning_app
from cli.tiles import tiles_app
from geo.settings import get_settings

app = typer.Typer(
    help="HueGIS: the open GIS platform for Thành phố Huế.", no_args_is_help=True, pretty_exceptions_show_locals=False
)
app.add_typer(db_app, name="db")
app.command("load")(load)
app.add_typer(synth_app, name="synth")
app.add_typer(kpis_app, name="kpis")
app.add_typer(ogc_app, name="ogc")
app.add_typer(tiles_app, name="tiles")
app.add_typer(maps_app, name="maps")
app.add_typer(hotspots_app, name="hotspots")
app.add_typer(planning_app, name="planning")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.command("import")(import_command)
app.command("export")(export_command)
app.add_typer(layers_app, name="layers")
app.add_typer(qgis_app, name="qgis")


class HotspotsWhen(StrEnum):
    """When the first hot-spot run is computed."""

    now = "now"
    background = "background"
    skip = "skip"


HotspotsOption = Annotated[
    HotspotsWhen,
    typer.Option(
        help="The first hot-spot run (hot spots, emerging hot spots, forecast; minutes, once): 'now' in setup, "
        "'background' by the app right after it starts (it answers meanwhile; HUEGIS_HOTSPOTS_ON_START), "
        "'skip' not here (and, given to `huegis serve`, not by the app either: `huegis hotspots run` later)."
    ),
]


@app.command("setup")
def setup(hotspots: HotspotsOption = HotspotsWhen.background) -> None:
    """Start the database, migrate, load the data, compute the analyses and generate the OpenAPI document."""
    db_start()
    migrate()
    load(only=None, force=False)  # the layers and the past storm warnings
    synth_reports()  # the report history (settings.history_count, until today), before what is computed from it
    kpis_refresh()
    if hotspots == HotspotsWhen.now:
        hotspots_first_run()  # hot spots, emerging hot spots and the forecast, when no run exists yet
    elif hotspots == HotspotsWhen.background and get_settings().hotspots_on_start:
        typer.echo("hot spots: the app computes the first run in the background after it starts (if none exists)")
    ogc_openapi()
    if get_settings().local_replicas:  # copied last: the data is there, and streams from now on
        replica_start()


@app.command("serve")
def serve(
    prepare: Annotated[bool, typer.Option(help="Run `huegis setup` first.")] = True,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes on the one port (default HUEGIS_WORKERS, 1). "
            "Caches stay per process; background jobs run in one of them.",
        ),
    ] = None,
    hotspots: HotspotsOption = HotspotsWhen.background,
) -> None:
    """Serve the platform (API, OGC API Features, pages) on one port."""
    import os

    import uvicorn

    if hotspots == HotspotsWhen.skip:  # read by every worker process's settings
        os.environ["HUEGIS_HOTSPOTS_ON_START"] = "false"
        get_settings.cache_clear()
    settings = get_settings()
    workers = workers or settings.workers
    if reload and workers > 1:
        raise typer.BadParameter("--reload runs one process: leave out --workers", param_hint="--workers")
    if prepare:
        setup(hotspots)
    elif settings.local_replicas:
        replica_start()
    base = settings.public_url.rstrip("/")
    typer.secho("\nHueGIS is starting:", bold=True)
    pages = (("Home", "/"), ("Citizen portal", "/portal"), ("Dashboard", "/dashboard"),
             ("Emergency", "/emergency"), ("Web maps", "/maps"), ("OGC API Features", "/ogc"),
             ("API docs", "/docs"), ("Health", "/healthz"))  # fmt: skip
    for label, path in pages:
        typer.echo(f"  {label:18} {base}{path}")
    if settings.simulating:
        typer.echo("\nThe city lives on: simulated reports and staff work (synthetic; HUEGIS_SIMULATE=false stops it).")
    typer.echo("")
    # proxy_headers off: the app itself decides whose X-Forwarded-For to believe (trusted_proxies);
    # no "server: uvicorn" banner.
    if workers > 1:
        typer.echo(f"  {workers} worker processes\n")
    # A worker busy starting on a loaded machine misses uvicorn's 5 s health check and is restarted.
    uvicorn.run("api.main:create_app", factory=True, host=settings.host, port=settings.port, reload=reload,
                workers=workers, timeout_worker_healthcheck=60, proxy_headers=False,
                server_header=False)  # fmt: skip


if __name__ == "__main__":
    app()
