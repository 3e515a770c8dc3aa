"""City data in and out: ``POST /api/layers/{id}/imports`` (gis_admin), ``DELETE /api/layers/{id}``,
``GET /api/layers/{id}/export`` and ``GET /downloads/huegis.qgz`` (the ready QGIS project).

An upload streams to a temporary file (the body cap, ``HUEGIS_IMPORT_MAX_BYTES``, is enforced
while it streams by ``api.limits.BodyLimit``); reading the file runs in a worker thread; the
import is one transaction; the layer is published in this process before the answer and in the
others through the database's notification.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from api.deps import ConnDep, requires
from api.limits import limit_expensive
from api.publication import publish_imported
from geo.audit import record
from geo.auth import Principal
from geo.auth.roles import LAYERS_IMPORT
from geo.errors import InvalidInput, NotFound
from geo.imported import drop_layer
from geo.qgis import project_bytes
from geo.registry import REGISTRY
from layers.city_files import read_city_file
from layers.exports import FORMATS, MEDIA_TYPES, format_of, parse_bbox, read_layer, target_crs, write_file
from layers.imports import MODES, ImportOptions, ImportRefused, check_options, import_file

router = APIRouter(tags=["layers"])
IMPORT_PATH = r"/api/layers/[^/]+/imports"  # its body cap (api.main): HUEGIS_IMPORT_MAX_BYTES
LayerId = Annotated[str, Path(description="Layer id (table name, OGC collection id)", max_length=63)]
Importer = Annotated[Principal, Depends(requires(LAYERS_IMPORT))]
CHUNK = 1024 * 1024


@router.post(
    "/api/layers/{layer_id}/imports",
    summary="Import a city file into a layer (gis_admin)",
    status_code=201,
    responses={
        200: {"description": "Dry run: the validation report, nothing written"},
        400: {"description": "The file or an option is refused: the message names the problem (and the report)"},
        409: {"description": "The layer exists and no mode was given, or the id is taken"},
        413: {"description": "The upload is larger than HUEGIS_IMPORT_MAX_BYTES"},
    },
)
async def import_layer_file(
    request: Request,
    conn: ConnDep,
    principal: Importer,
    layer_id: LayerId,
    file: Annotated[UploadFile, File(description="Zipped shapefile, GeoPackage, GeoJSON, KML/KMZ, CSV or XLSX")],
    mode: Annotated[str | None, Form(description="create | append | replace | upsert")] = None,
    key: Annotated[str | None, Form(description="Column identifying a feature (upsert)")] = None,
    title: Annotated[str | None, Form()] = None,
    title_vi: Annotated[str | None, Form()] = None,
    description: Annotated[str, Form()] = "",
    group: Annotated[str, Form(description="A new layer's group: thematic or reference")] = "thematic",
    crs: Annotated[str | None, Form(description="CRS of a file without one, e.g. EPSG:9214")] = None,
    x: Annotated[str | None, Form(description="CSV/XLSX x or longitude column")] = None,
    y: Annotated[str | None, Form(description="CSV/XLSX y or latitude column")] = None,
    encoding: Annotated[str | None, Form(description="Text encoding of a DBF without .cpg")] = None,
    source_layer: Annotated[str | None, Form(description="Layer to read in a multi-layer file")] = None,
    map_: Annotated[list[str] | None, Form(alias="map", description="FILE_COLUMN=LAYER_COLUMN, repeatable")] = None,
    source: Annotated[str | None, Form(description="Where the data comes from")] = None,
    licence: Annotated[str, Form()] = "not stated by the importer",
    allow_outside: Annotated[bool, Form()] = False,
    dry_run: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """Validate the file (report: rows, repairs, rejections with row numbers, CRS and transformation,
    encoding, column mapping) and write it in one transaction; a new id creates and publishes a layer."""
    if mode is not None and mode not in MODES:
        raise InvalidInput(f"mode {mode!r}: one of {', '.join(MODES)}")
    name = _file_name(file.filename)
    mapping = dict(_pair(item) for item in map_ or [])
    options = ImportOptions(
        layer_id=layer_id, mode=mode, key=key or None, title=title, title_vi=title_vi, description=description,
        group=group, mapping=mapping, source=source, licence=licence, allow_outside=allow_outside, dry_run=dry_run,
    )  # fmt: skip
    check_options(options)  # before the file is read: a refusal costs nothing
    with tempfile.TemporaryDirectory(prefix="huegis-import-") as tmp:
        path = FilePath(tmp) / name
        await _save(file, path)
        read = await run_in_threadpool(
            read_city_file, path, file_name=name, crs=crs or None, x=x or None, y=y or None,
            encoding=encoding or None, source_layer=source_layer or None,
        )  # fmt: skip
        try:
            report = await import_file(conn, read, options, actor=principal.actor)
        except ImportRefused as exc:
            return JSONResponse({"detail": str(exc), "report": _jsonable(exc.report.as_dict())}, status_code=400)
    if report.written:
        await publish_imported(request.app)
    return JSONResponse(_jsonable(report.as_dict()), status_code=200 if dry_run else 201)


@router.delete("/api/layers/{layer_id}", summary="Remove an imported layer (gis_admin)", status_code=204)
async def remove_layer(request: Request, conn: ConnDep, principal: Importer, layer_id: LayerId) -> Response:
    """Drop an imported layer's table and registry entry; built-in layers cannot be removed (409)."""
    async with conn.transaction():
        await drop_layer(conn, layer_id)
        await record(conn, actor=principal.actor, action="remove", object_type="layer", object_id=layer_id)
    await publish_imported(request.app)
    return Response(status_code=204)


@router.get(
    "/api/layers/{layer_id}/export",
    dependencies=[Depends(limit_expensive)],
    summary="Download a layer as GeoPackage, zipped Shapefile, CSV or GeoJSON, in any CRS",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}, 400: {}, 404: {}},
)
async def export_layer(
    conn: ConnDep,
    layer_id: LayerId,
    format_: Annotated[str, Query(alias="format", description=f"One of {', '.join(FORMATS)}")] = "gpkg",
    crs: Annotated[str | None, Query(description="Output CRS, e.g. EPSG:9214 (VN-2000 / TM-3 107-00)")] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in lon/lat")] = None,
    where: Annotated[str | None, Query(description="ECQL filter on the layer's columns")] = None,
) -> Response:
    """The layer's published columns; a shapefile comes zipped with its .prj and .cpg (UTF-8)."""
    spec = REGISTRY.get(layer_id)
    if spec is None:
        raise NotFound(f"unknown layer {layer_id!r}; layers: {', '.join(REGISTRY)}")
    fmt = format_of(FilePath("x"), format_)
    out_crs = target_crs(crs)
    frame = await read_layer(conn, spec, bbox=parse_bbox(bbox), where=where)
    tmp = FilePath(tempfile.mkdtemp(prefix="huegis-export-"))
    suffix = ".zip" if fmt == "shp" else FORMATS[fmt][1]
    path = tmp / f"{layer_id}{suffix}"
    try:
        await run_in_threadpool(write_file, frame, path, fmt=fmt, crs=out_crs, layer_name=layer_id)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )


@router.get("/downloads/huegis.qgz", summary="A ready QGIS project with every published layer", response_class=Response)
async def qgis_project(request: Request, conn: ConnDep) -> Response:
    """Every layer over OGC API Features (page size 1000), vector tiles for the heavy ones, registry styles."""
    base = request.app.state.settings.public_url.rstrip("/")
    body = await project_bytes(conn, base)
    return Response(
        body,
        media_type="application/x-qgis-project-zip",
        headers={"Content-Disposition": 'attachment; filename="huegis.qgz"'},
    )


def _file_name(given: str | None) -> str:
    """The upload's base name, safe as a file name (its suffix tells the format)."""
    name = FilePath(given or "").name.strip()
    if not name or name.startswith("."):
        raise InvalidInput(
            "the upload needs a file name with its suffix (.zip, .gpkg, .geojson, .kml, .kmz, .csv, .xlsx)"
        )
    if name.lower().endswith((".shp", ".dbf", ".shx")):
        raise InvalidInput(f"{name}: a shapefile is several files: upload them zipped (.shp, .shx, .dbf, .prj, .cpg)")
    return re.sub(r"[^\w.\-]+", "_", name)[:120]


async def _save(upload: UploadFile, path: FilePath) -> None:
    """Copy the (spooled) upload to ``path`` in chunks; an empty upload is refused."""
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            out.write(chunk)
    if size == 0:
        raise InvalidInput(f"{path.name}: the upload is empty")


def _pair(text: str) -> tuple[str, str]:
    source, sep, target = text.partition("=")
    if not sep or not source.strip() or not target.strip():
        raise InvalidInput(f"map {text!r}: write FILE_COLUMN=LAYER_COLUMN")
    return source.strip(), target.strip()


def _jsonable(value: Any) -> Any:
    """Dates and the like as ISO text (the report holds only JSON types otherwise)."""
    import json

    return json.loads(json.dumps(value, default=str))
