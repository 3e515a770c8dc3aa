"""``huegis ogc``: pygeoapi's configuration (rendered from the registry) and OpenAPI document."""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer

from cli.common import fail
from geo.ogc.config import render_pygeoapi_config
from geo.ogc.openapi import generate_openapi
from geo.settings import get_settings

ogc_app = typer.Typer(help="pygeoapi (OGC API Features): configuration and OpenAPI document.", no_args_is_help=True)


@ogc_app.command("config")
def ogc_config(
    check: Annotated[bool, typer.Option(help="Exit 1 if pygeoapi-config.yml differs from the registry.")] = False,
) -> None:
    """Write pygeoapi-config.yml from the layer registry."""
    path = get_settings().pygeoapi_config
    rendered = render_pygeoapi_config()
    if check:
        if not path.exists() or path.read_text() != rendered:
            raise fail(ValueError(f"{path} is out of date: run `huegis ogc config`"))
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
        raise fail(RuntimeError(f"pygeoapi openapi generate failed:\n{exc.stderr}")) from exc
    typer.echo(f"wrote {settings.pygeoapi_openapi}")
