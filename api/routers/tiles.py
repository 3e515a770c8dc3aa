"""``/tiles``: vector tiles of every layer and the basemap, TileJSON, the basemap's MapLibre
style, and the same tiles under OGC API - Tiles paths (WebMercatorQuad).

Tiles answer 200 with MVT bytes, 204 when no feature touches the tile, 304 when the client's
``If-None-Match`` still holds, 400 for a z/x/y that is not a tile, 404 beyond the served zooms.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from api.compression import accepts_gzip, etag_matches, gzip_etag
from api.consistency import read_after
from api.deps import public_base
from geo.errors import NotFound
from tiles import metadata as ogc
from tiles.cache import TileStore
from tiles.grid import InvalidTile, check_tile
from tiles.style import basemap_style
from tiles.vector import BASEMAP, MVT_MEDIA_TYPE, Tileset, get_tileset

router = APIRouter(prefix="/tiles", tags=["tiles"])


def get_store(request: Request) -> TileStore:
    """The app's tile store (created with the pool in the lifespan)."""
    return request.app.state.tile_store


StoreDep = Annotated[TileStore, Depends(get_store)]
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "Mapbox Vector Tile"},
    204: {"description": "No feature in this tile"},
    304: {"description": "Not modified since the ETag in If-None-Match"},
    400: {"description": "Not a WebMercatorQuad tile"},
    404: {"description": "Unknown tileset, or a zoom beyond those served"},
}


def _wants_fresh(request: Request) -> bool:
    """A hard reload (``Cache-Control: no-cache``) re-reads layer versions instead of the memo."""
    directives = f"{request.headers.get('cache-control', '')},{request.headers.get('pragma', '')}".lower()
    return "no-cache" in directives


async def tile_response(request: Request, store: TileStore, tileset: Tileset, z: int, x: int, y: int) -> Response:
    """The HTTP answer for one tile: conditional, cached (gzipped), 204 when empty."""
    check_tile(z, x, y)
    fresh = _wants_fresh(request)
    if_none_match = request.headers.get("if-none-match")
    gzipped = accepts_gzip(request.headers)
    # The ETag names the encoding too: a cache must never answer a gzip request with plain bytes.
    encoded = gzip_etag if gzipped else str
    headers = {"Cache-Control": tileset.cache_control, "Access-Control-Allow-Origin": "*", "Vary": "Accept-Encoding"}
    after = read_after(request)  # the client's last write: shown at once
    etag = await store.etag(tileset, z, refresh=fresh, after=after)
    if etag is not None and etag_matches(if_none_match, encoded(etag)):
        return Response(status_code=304, headers={**headers, "ETag": encoded(etag)})
    tile = await store.tile(tileset, z, x, y, after=after, gzipped=gzipped)
    headers |= {"ETag": encoded(tile.etag), "X-Tile-Cache": tile.cache}
    if etag_matches(if_none_match, encoded(tile.etag)):
        return Response(status_code=304, headers=headers)
    if not tile.content:
        return Response(status_code=204, headers=headers)
    if tile.gzipped:  # already compressed: the middleware passes a response with Content-Encoding by
        headers["Content-Encoding"] = "gzip"
    return Response(tile.content, media_type=MVT_MEDIA_TYPE, headers=headers)


# --- OGC API - Tiles documents --------------------------------------------------------------


@router.get("", summary="OGC API - Tiles landing page")
async def landing(request: Request) -> dict:
    return ogc.landing(public_base(request))


@router.get("/conformance", summary="OGC API - Tiles conformance classes")
async def conformance() -> dict:
    return ogc.conformance()


@router.get("/tileMatrixSets", summary="Tile matrix sets")
async def tile_matrix_sets(request: Request) -> dict:
    return ogc.tile_matrix_sets(public_base(request))


@router.get("/tileMatrixSets/{tms_id}", summary="A tile matrix set definition (OGC TMS 2.0)")
async def tile_matrix_set(tms_id: str) -> dict:
    _check_tms(tms_id)
    return ogc.tile_matrix_set()


@router.get("/collections", summary="Collections with vector tiles")
async def collections(request: Request) -> dict:
    return ogc.collections(public_base(request))


@router.get("/collections/{layer}", summary="One collection with vector tiles")
async def collection(request: Request, layer: str) -> dict:
    return ogc.collection(_layer_tileset(layer), public_base(request))


@router.get("/collections/{layer}/tiles", summary="A collection's vector tilesets")
async def collection_tilesets(request: Request, layer: str) -> dict:
    return ogc.tilesets(_layer_tileset(layer), public_base(request))


@router.get("/collections/{layer}/tiles/{tms_id}", summary="A collection's tileset metadata")
async def collection_tileset(request: Request, layer: str, tms_id: str) -> dict:
    _check_tms(tms_id)
    return ogc.tileset_metadata(_layer_tileset(layer), public_base(request))


@router.get(
    "/collections/{layer}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="A collection's tile (OGC API - Tiles path)",
    response_class=Response,
    responses=TILE_RESPONSES,
)
async def collection_tile(
    request: Request, store: StoreDep, layer: str, tms_id: str, tile_matrix: str, tile_row: str, tile_col: str
) -> Response:
    _check_tms(tms_id)
    z, y, x = _tile_indices(tile_matrix, tile_row, tile_col)
    return await tile_response(request, store, _layer_tileset(layer), z, x, y)


@router.get("/tiles", summary="The dataset's vector tilesets (the basemap)")
async def dataset_tilesets(request: Request) -> dict:
    return ogc.tilesets(BASEMAP, public_base(request))


@router.get("/tiles/{tms_id}", summary="The basemap's tileset metadata")
async def dataset_tileset(request: Request, tms_id: str) -> dict:
    _check_tms(tms_id)
    return ogc.tileset_metadata(BASEMAP, public_base(request))


@router.get(
    "/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="A basemap tile (OGC API - Tiles path)",
    response_class=Response,
    responses=TILE_RESPONSES,
)
async def dataset_tile(
    request: Request, store: StoreDep, tms_id: str, tile_matrix: str, tile_row: str, tile_col: str
) -> Response:
    _check_tms(tms_id)
    z, y, x = _tile_indices(tile_matrix, tile_row, tile_col)
    return await tile_response(request, store, BASEMAP, z, x, y)


# --- XYZ tiles, TileJSON, style -----------------------------------------------------------


@router.get("/basemap/style.json", summary="MapLibre GL style of the basemap")
async def style(request: Request, lang: Annotated[Literal["vi", "en"], Query()] = "vi") -> JSONResponse:
    archive = request.app.state.settings.basemap_pmtiles_url
    return JSONResponse(basemap_style(public_base(request), lang, pmtiles_url=archive),
                        headers={"Cache-Control": "public, max-age=300"})  # fmt: skip


@router.get("/{tileset_id}/tilejson.json", summary="TileJSON 3.0 of a layer or of the basemap")
async def tilejson(request: Request, tileset_id: str) -> JSONResponse:
    body = ogc.tilejson(get_tileset(tileset_id), public_base(request))
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


@router.get(
    "/{tileset_id}/{z}/{x}/{y}.mvt",
    summary="A vector tile of a layer (or of the basemap), z/x/y in WebMercatorQuad",
    response_class=Response,
    responses=TILE_RESPONSES,
)
async def xyz_tile(request: Request, store: StoreDep, tileset_id: str, z: str, x: str, y: str) -> Response:
    # Strings, checked here: a negative or non-integer index is a 400 saying so, not "Not Found".
    return await tile_response(request, store, get_tileset(tileset_id), *_tile_indices(z, x, y))


def _layer_tileset(layer: str) -> Tileset:
    if layer == BASEMAP.id:
        raise NotFound("the basemap is the dataset's tileset: /tiles/tiles")
    return get_tileset(layer)


def _check_tms(tms_id: str) -> None:
    if tms_id != ogc.TMS_ID:
        raise NotFound(f"unknown tile matrix set {tms_id!r}; this server tiles in {ogc.TMS_ID}")


def _tile_indices(tile_matrix: str, tile_row: str, tile_col: str) -> tuple[int, int, int]:
    try:
        return int(tile_matrix), int(tile_row), int(tile_col)
    except ValueError:
        raise InvalidTile(
            f"tileMatrix/tileRow/tileCol must be integers, got {tile_matrix}/{tile_row}/{tile_col}"
        ) from None
