"""Editing over OGC API Features Part 4, in front of the read-only pygeoapi mount, and feature history.

``POST /ogc/collections/{id}/items`` and ``PUT``/``PATCH``/``DELETE …/items/{fid}`` write through
``geo.editing``; ``OPTIONS`` answers with ``Allow`` (QGIS enables editing from it). Staff sign in
first (401), and the body is read only once the caller is known to be allowed (403/405/428 come
before it). ``/api/layers/{id}/features/{fid}/history`` lists a feature's changes, and a GIS
administrator puts back any recorded version.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from api.deps import ConnDep, PrincipalDep, SettingsDep
from api.errors import UnsupportedMediaType
from geo import editing
from geo.errors import InvalidInput
from geo.settings import Settings

router = APIRouter(prefix="/ogc", include_in_schema=False)
history = APIRouter(prefix="/api/layers", tags=["layers"])

# The conformance classes of OGC API - Features - Part 4 (draft 1.0) this service implements.
PART4 = tuple(
    f"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/{name}"
    for name in ("create-replace-delete", "update", "optimistic-locking-etags", "features")
)
FEATURE_TYPES = ("application/geo+json", "application/json")
PATCH_TYPES = ("application/merge-patch+json", *FEATURE_TYPES)
CRS84 = ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84h")
IfMatch = Annotated[str | None, Header(alias="If-Match")]


def advertise_part4() -> None:
    """List Part 4's conformance classes at ``/ogc/conformance`` (pygeoapi builds it from this list)."""
    from pygeoapi.api import itemtypes

    itemtypes.CONFORMANCE_CLASSES_FEATURES.extend(c for c in PART4 if c not in itemtypes.CONFORMANCE_CLASSES_FEATURES)


def _allow(methods: tuple[str, ...]) -> Response:
    return Response(status_code=204, headers={"Allow": ", ".join(methods)})


@router.options("/collections/{layer_id}/items")
async def items_options(layer_id: str) -> Response:
    """What a layer's items accept: POST only when the layer is editable."""
    return _allow(editing.allowed_methods(layer_id, item=False))


@router.options("/collections/{layer_id}/items/{fid}")
async def item_options(layer_id: str, fid: str) -> Response:
    """What a feature accepts: PUT, PATCH and DELETE only when its layer is editable."""
    return _allow(editing.allowed_methods(layer_id, item=True))


async def _body(request: Request, accepted: tuple[str, ...]) -> Any:
    """The JSON body, once the caller may write: 415 for another media type, 400 naming bad JSON or CRS."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in accepted:
        raise UnsupportedMediaType(media_type, " or ".join(accepted))
    crs = request.headers.get("content-crs", "").strip().strip("<>")
    if crs and crs not in CRS84:
        raise InvalidInput(f"Content-Crs: {crs} is not offered; send longitude, latitude (CRS84)")
    try:
        return json.loads(await request.body(), parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from None


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _location(settings: Settings, layer_id: str, fid: str) -> str:
    return f"{settings.public_url.rstrip('/')}/ogc/collections/{layer_id}/items/{fid}"


def _written(written: editing.Written, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The feature as now stored, with its new ETag."""
    assert written.feature is not None and written.etag is not None
    headers = {**(headers or {}), "ETag": written.etag}
    return Response(written.feature, status_code=status, media_type="application/geo+json", headers=headers)


def _strict(settings: Settings) -> bool:
    return settings.edit_if_match == "required"


@router.post("/collections/{layer_id}/items")
async def create_item(
    layer_id: str, request: Request, conn: ConnDep, principal: PrincipalDep, settings: SettingsDep
) -> Response:
    """Create a feature; 201 with ``Location`` and ``ETag``."""
    editing.authorize(principal, layer_id)
    body = await _body(request, FEATURE_TYPES)
    written = await editing.create_feature(conn, layer_id=layer_id, body=body, principal=principal)
    return _written(written, 201, {"Location": _location(settings, layer_id, written.feature_id)})


@router.api_route("/collections/{layer_id}/items/{fid}", methods=["PUT", "PATCH"])
async def change_item(
    layer_id: str, fid: str, request: Request, conn: ConnDep, principal: PrincipalDep, settings: SettingsDep,
    if_match: IfMatch = None,
) -> Response:  # fmt: skip
    """Replace a feature (PUT) or change some of it (PATCH, JSON merge patch); ``If-Match`` required unless
    HUEGIS_EDIT_IF_MATCH=optional."""
    editing.authorize(principal, layer_id)
    editing.check_if_match(if_match, required=_strict(settings))
    replace = request.method == "PUT"
    body = await _body(request, FEATURE_TYPES if replace else PATCH_TYPES)
    change = editing.replace_feature if replace else editing.patch_feature
    written = await change(conn, layer_id=layer_id, fid=fid, body=body, principal=principal, if_match=if_match,
                           require_match=_strict(settings))  # fmt: skip
    return _written(written)


@router.delete("/collections/{layer_id}/items/{fid}")
async def delete_item(
    layer_id: str, fid: str, conn: ConnDep, principal: PrincipalDep, settings: SettingsDep, if_match: IfMatch = None
) -> Response:
    """Delete a feature; 204."""
    await editing.delete_feature(conn, layer_id=layer_id, fid=fid, principal=principal, if_match=if_match,
                                 require_match=_strict(settings))  # fmt: skip
    return Response(status_code=204)


@history.get("/{layer_id}/features/{fid}/history", summary="Every change of a feature (staff who edit the layer)")
async def feature_history(layer_id: str, fid: str, conn: ConnDep, principal: PrincipalDep) -> dict:
    """Who changed the feature, when, and its properties and geometry before and after, oldest first."""
    return await editing.feature_history(conn, layer_id=layer_id, fid=fid, principal=principal)


@history.post(
    "/{layer_id}/features/{fid}/history/{version}/restore",
    summary="Put a feature back as it was after a version (GIS administrators)",
)
async def restore_version(
    layer_id: str, fid: str, version: int, conn: ConnDep, principal: PrincipalDep, if_match: IfMatch = None
) -> JSONResponse:
    """The feature as restored (recreated if it was deleted since), recorded as a new version."""
    written = await editing.restore_version(conn, layer_id=layer_id, fid=fid, version=version, principal=principal,
                                            if_match=if_match)  # fmt: skip
    assert written.feature is not None and written.etag is not None
    body = {"version": written.version, "feature": json.loads(written.feature)}
    return JSONResponse(body, headers={"ETag": written.etag})
