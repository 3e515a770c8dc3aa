"""``huegis tiles``: tile archives for a static host or CDN."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from psycopg import AsyncConnection

from cli.common import fail
from geo.errors import DatabaseUnavailable, HueGISError
from geo.settings import get_settings
from tiles.grid import MAX_ZOOM, MIN_ZOOM

tiles_app = typer.Typer(help="Vector tiles: archives of rarely changing layers for a static host or CDN.",
                        no_args_is_help=True)  # fmt: skip


class ArchiveFormat(StrEnum):
    pmtiles = "pmtiles"


@tiles_app.command("export")
def export(
    layers: Annotated[
        list[str],
        typer.Argument(
            help="Tilesets: layer ids (admin_units, planning_zones, ...) or "
            "basemap; several are merged into one tile per position."
        ),
    ],
    out: Annotated[Path, typer.Argument(help="The archive to write, e.g. hue-basemap.pmtiles.")],
    fmt: Annotated[ArchiveFormat, typer.Option("--format", help="Archive format.")] = ArchiveFormat.pmtiles,
    minzoom: Annotated[int, typer.Option(min=MIN_ZOOM, max=MAX_ZOOM, help="First zoom level.")] = 8,
    maxzoom: Annotated[int, typer.Option(min=MIN_ZOOM, max=MAX_ZOOM, help="Last zoom level.")] = 14,
) -> None:
    """Render every tile of LAYERS at --minzoom..--maxzoom into one PMTiles archive (docs/tiles.md).

    For layers that change rarely: put the file on any static host; the portal's MapLibre reads it
    through the pmtiles:// protocol (HUEGIS_BASEMAP_PMTILES_URL for the basemap).
    """
    from tqdm import tqdm

    from tiles.archive import export_pmtiles, tile_positions
    from tiles.vector import get_tileset

    if minzoom > maxzoom:
        raise typer.BadParameter(f"--minzoom {minzoom} is above --maxzoom {maxzoom}", param_hint="--minzoom")
    try:
        tilesets = [get_tileset(name) for name in dict.fromkeys(layers)]
    except HueGISError as exc:
        raise fail(exc) from exc
    west = min(t.bounds[0] for t in tilesets)
    south = min(t.bounds[1] for t in tilesets)
    east = max(t.bounds[2] for t in tilesets)
    north = max(t.bounds[3] for t in tilesets)
    total = len(tile_positions((west, south, east, north), minzoom, maxzoom))

    async def main() -> None:
        async with await AsyncConnection.connect(get_settings().conninfo(), autocommit=True) as conn:
            with tqdm(total=total, desc=f"Rendering {fmt.value}", unit=" tiles") as bar:
                summary = await export_pmtiles(conn, tilesets, out, minzoom=minzoom, maxzoom=maxzoom,
                                               progress=bar.update)  # fmt: skip
        typer.echo(f"wrote {summary.path}: {summary.tiles:,} tiles with data ({summary.empty:,} empty positions "
                   f"left out), z{minzoom}-{maxzoom}, {summary.size_bytes / 1e6:.1f} MB")  # fmt: skip

    try:
        asyncio.run(main())
    except (HueGISError, ValueError) as exc:
        raise fail(exc) from exc


@tiles_app.command("report-cells")
def report_cells(
    rebuild: Annotated[bool, typer.Option(help="Recount every cell from every report, not only the marked.")] = False,
) -> None:
    """Bring report_cells (the low-zoom report tiles' counts) up to date now: what the report-cells job
    does every HUEGIS_REPORT_CELLS_INTERVAL_S, or with --rebuild what a history load does (docs/tiles.md)."""
    import psycopg

    from geo.reports.cells import rebuild_report_cells, refresh_report_cells

    settings = get_settings()

    async def refresh() -> int:
        async with await AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
            return await refresh_report_cells(conn)

    try:
        if rebuild:
            with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
                typer.echo(f"rebuilt report_cells: {rebuild_report_cells(conn):,} cells with reports")
        else:
            typer.echo(f"recounted {asyncio.run(refresh()):,} marked cells")
    except psycopg.OperationalError as exc:
        raise fail(DatabaseUnavailable(f"cannot connect to the database: {exc}")) from exc
