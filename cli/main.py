"""``huegis``: every command group, plus ``setup`` and ``serve`` that chain them."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.accounts import keys_app, users_app
from cli.data import kpis_app, kpis_refresh, load, synth_app, synth_reports
from cli.db import db_app, db_start, migrate
from cli.exchange import export_command, import_command, layers_app, qgis_app
from cli.hotspots import hotspots_app
from cli.maps import maps_app
from cli.ogc import ogc_app, ogc_openapi
from cli.planning import planning_app
from geo.settings import get_settings

app = typer.Typer(
    help="HueGIS: the open GIS platform for Thành phố Huế.", no_args_is_help=True, pretty_exceptions_show_locals=False
)
app.add_typer(db_app, name="db")
app.command("load")(load)
app.add_typer(synth_app, name="synth")
app.add_typer(kpis_app, name="kpis")
app.add_typer(ogc_app, name="ogc")
app.add_typer(maps_app, name="maps")
app.add_typer(hotspots_app, name="hotspots")
app.add_typer(planning_app, name="planning")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.command("import")(import_command)
app.command("export")(export_command)
app.add_typer(layers_app, name="layers")
app.add_typer(qgis_app, name="qgis")


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
