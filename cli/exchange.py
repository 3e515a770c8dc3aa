"""``huegis import``, ``huegis export`` and ``huegis layers``: the city's files in and out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import cli_actor, fail, with_connection
from geo.errors import HueGISError


def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="Shapefile (.shp or .zip), GeoPackage, GeoJSON, KML/KMZ, CSV or XLSX."
        ),
    ],
    layer: Annotated[str, typer.Option("--layer", help="Layer id: an existing layer, or a new one to create.")],
    title: Annotated[str | None, typer.Option(help="A new layer's title (English).")] = None,
    title_vi: Annotated[str | None, typer.Option(help="A new layer's title in Vietnamese.")] = None,
    description: Annotated[str, typer.Option(help="A new layer's description.")] = "",
    group: Annotated[str, typer.Option(help="A new layer's group: thematic or reference.")] = "thematic",
    crs: Annotated[
        str | None, typer.Option(help="CRS of the coordinates when the file has none, e.g. EPSG:9214.")
    ] = None,
    x: Annotated[str | None, typer.Option("--x", help="CSV/XLSX: the x (longitude or easting) column.")] = None,
    y: Annotated[str | None, typer.Option("--y", help="CSV/XLSX: the y (latitude or northing) column.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a DBF without .cpg, e.g. cp1258.")] = None,
    source_layer: Annotated[
        str | None, typer.Option(help="The layer to read in a GeoPackage or KML with several.")
    ] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="FILE_COLUMN=LAYER_COLUMN (repeatable).")] = None,
    mode: Annotated[str | None, typer.Option(help="create | append | replace | upsert (default: create).")] = None,
    key: Annotated[
        str | None, typer.Option(help="The column identifying a feature (upsert; unique in a new layer).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Where the data comes from (default: the file name).")] = None,
    licence: Annotated[str, typer.Option(help="The data's licence.")] = "not stated by the importer",
    allow_outside: Annotated[bool, typer.Option(help="Keep features outside the city (reported either way).")] = False,
    dry_run: Annotated[bool, typer.Option(help="Validate and print the report; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import a city file into a layer (VN-2000 aware): a validation report, then one transaction.

    A new --layer id creates the layer (table, index, registry entry) and the running app publishes
    it at once (OGC API Features, tiles, maps). Examples:

      huegis import truong_hoc.zip --layer schools --mode upsert --key name --map ten_truong=name

      huegis import cong_vien.shp --layer parks --title Parks --title-vi "Công viên" --dry-run

      huegis import diem.csv --layer wells --x x --y y --crs EPSG:9214
    """
    from layers.city_files import read_city_file
    from layers.imports import MODES, ImportOptions, ImportRefused, import_file

    if mode is not None and mode not in MODES:
        raise fail(ValueError(f"--mode {mode!r}: one of {', '.join(MODES)}"))
    try:
        mapping = dict(_pair(item) for item in map_ or [])
        read = read_city_file(file, crs=crs, x=x, y=y, encoding=encoding, source_layer=source_layer)
        options = ImportOptions(
            layer_id=layer, mode=mode, key=key, title=title, title_vi=title_vi, description=description, group=group,
            mapping=mapping, source=source, licence=licence, allow_outside=allow_outside, dry_run=dry_run,
        )  # fmt: skip
        report = with_connection(lambda conn: import_file(conn, read, options, actor=cli_actor()))
    except ImportRefused as exc:
        typer.echo(json.dumps(exc.report.as_dict(), ensure_ascii=False, default=str, indent=2) if as_json
                   else exc.report.text())  # fmt: skip
        raise fail(exc) from exc
    except (HueGISError, ValueError) as exc:
        raise fail(exc) from exc
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, default=str, indent=2) if as_json else report.text())


def _pair(text: str) -> tuple[str, str]:
    source, sep, target = text.partition("=")
    if not sep or not source or not target:
        raise ValueError(f"--map {text!r}: write FILE_COLUMN=LAYER_COLUMN")
    return source.strip(), target.strip()


def export_command(
    layer: Annotated[str, typer.Argument(help="The layer id.")],
    file: Annotated[Path, typer.Argument(help="Output: .gpkg, .shp (or .zip: zipped shapefile), .csv, .geojson.")],
    crs: Annotated[str | None, typer.Option(help="Output CRS, e.g. EPSG:9214 (VN-2000 / TM-3 107-00).")] = None,
    bbox: Annotated[str | None, typer.Option(help="minx,miny,maxx,maxy in lon/lat.")] = None,
    where: Annotated[str | None, typer.Option(help="ECQL filter, e.g. \"school_level = 'primary'\".")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="gpkg | shp | csv | geojson (default: from FILE).")
    ] = None,
) -> None:
    """Export a layer to a file, e.g. a zipped shapefile in VN-2000 for a ministry:

    huegis export schools truong_hoc.zip --crs EPSG:9214
    """
    from geo.imported import read_imported
    from geo.registry import REGISTRY, merge_imported
    from layers.exports import format_of, parse_bbox, read_layer, target_crs, write_file

    try:
        chosen = format_of(file, fmt)
        out_crs = target_crs(crs)
        box = parse_bbox(bbox)

        async def read(conn):
            merge_imported(await read_imported(conn))
            if layer not in REGISTRY:
                raise KeyError(f"unknown layer {layer!r}; layers: {', '.join(REGISTRY)}")
            return await read_layer(conn, REGISTRY[layer], bbox=box, where=where)

        frame = with_connection(read)
        result = write_file(frame, file, fmt=chosen, crs=out_crs, layer_name=layer)
    except (HueGISError, KeyError) as exc:
        raise fail(exc) from exc
    typer.echo(
        f"{result.path}: {result.rows} features of {layer} in {result.crs} (transformation: {result.transformation})"
    )


layers_app = typer.Typer(help="Layers imported from the city's files.", no_args_is_help=True)


@layers_app.command("list")
def layers_list() -> None:
    """Every imported layer (the built-in ones are in `/api/layers`)."""
    from geo.imported import read_imported

    for spec in with_connection(read_imported):
        typer.echo(f"{spec.id:28} {spec.geometry_type:16} {spec.title}")


@layers_app.command("remove")
def layers_remove(layer: Annotated[str, typer.Argument(help="An imported layer's id.")]) -> None:
    """Remove an imported layer: its table, its registry entry; the running app withdraws it at once."""
    from geo.audit import record
    from geo.imported import drop_layer

    async def remove(conn):
        async with conn.transaction():
            await drop_layer(conn, layer)
            await record(conn, actor=cli_actor(), action="remove", object_type="layer", object_id=layer)

    try:
        with_connection(remove)
    except HueGISError as exc:
        raise fail(exc) from exc
    typer.echo(f"removed layer {layer}")


qgis_app = typer.Typer(help="QGIS: a ready project with every published layer.", no_args_is_help=True)


@qgis_app.command("project")
def qgis_project(
    file: Annotated[Path, typer.Argument(help="Where to write the project (.qgz).")],
    url: Annotated[str | None, typer.Option(help="The platform's public URL (default: HUEGIS_PUBLIC_URL).")] = None,
) -> None:
    """Write a QGIS project: every layer over OGC API Features (1000 a page), vector tiles for heavy ones."""
    from geo.imported import read_imported
    from geo.qgis import project_bytes
    from geo.registry import merge_imported
    from geo.settings import get_settings

    base = url or get_settings().public_url

    async def build(conn):
        merge_imported(await read_imported(conn))
        return await project_bytes(conn, base)

    try:
        file.write_bytes(with_connection(build))
    except HueGISError as exc:
        raise fail(exc) from exc
    typer.echo(f"{file}: QGIS project for {base} (open it in QGIS 3.22+)")
