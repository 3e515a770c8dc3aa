"""``huegis maps``: the planners' web maps as standalone HTML files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail, with_connection
from geo.errors import HueGISError

maps_app = typer.Typer(help="Planners' web maps (folium): standalone HTML export.", no_args_is_help=True)


@maps_app.command("export")
def maps_export(
    directory: Annotated[Path, typer.Argument(help="Where to write the HTML files (created if missing).")],
    only: Annotated[list[str] | None, typer.Option("--only", help="Export just these maps.")] = None,
    lang: Annotated[str, typer.Option(help="Page language: vi or en.")] = "vi",
) -> None:
    """Write every web map as a standalone HTML file (libraries copied to DIR/vendor; no network needed)."""
    from geo.maps import export_maps

    if lang not in ("vi", "en"):
        raise typer.BadParameter(f"--lang must be vi or en, not {lang!r}")
    try:
        written = with_connection(lambda conn: export_maps(conn, directory, names=only, lang=lang))  # type: ignore[arg-type]
    except HueGISError as exc:
        raise fail(exc) from exc
    for path in written:
        typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
