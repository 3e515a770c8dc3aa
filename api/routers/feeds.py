"""Emergency feeds: CAP 1.2 per zone, the Atom index of active alerts, the GeoJSON feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from api.deps import ConnDep, SettingsDep
from geo import disasters
from geo.disasters.signing import CapSigner
from geo.disasters.zones import as_hue_time
from geo.times import TZ

router = APIRouter(prefix="/feeds", tags=["feeds"])

CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"
PEM_MEDIA_TYPE = "application/x-pem-file"


def cap_signer(request: Request) -> CapSigner:
    """The app's CAP signer (loaded, or generated, when the app is created)."""
    return request.app.state.cap_signer


@router.get(
    "/cap/{zone_id}.xml",
    summary="A zone's latest CAP 1.2 message (Alert, Update or Cancel), signed (XML Signature)",
    response_class=Response,
    responses={200: {"content": {CAP_MEDIA_TYPE: {}}}},
)
async def cap_alert(request: Request, conn: ConnDep, settings: SettingsDep, zone_id: int) -> Response:
    """Enveloped XML Signature (RSA-SHA256) verifiable with ``/feeds/cap/certificate.pem``."""
    body = await disasters.cap_alert(conn, zone_id=zone_id, web_base=settings.public_url)
    return Response(cap_signer(request).sign(body), media_type=CAP_MEDIA_TYPE)


@router.get(
    "/cap/certificate.pem",
    summary="The certificate that signs the CAP alerts (PEM)",
    response_class=Response,
    responses={200: {"content": {PEM_MEDIA_TYPE: {}}}},
)
async def cap_certificate(request: Request) -> Response:
    """Check each alert's signature against it (alert hubs pin it)."""
    return Response(cap_signer(request).certificate_pem, media_type=PEM_MEDIA_TYPE,
                    headers={"Cache-Control": "public, max-age=3600"})  # fmt: skip


@router.get(
    "/cap.atom",
    summary="Atom index of the active CAP alerts",
    response_class=Response,
    responses={200: {"content": {ATOM_MEDIA_TYPE: {}}}},
)
async def cap_index(
    conn: ConnDep,
    settings: SettingsDep,
    status: Annotated[str, Query(description="CAP status of the alerts listed")] = "Actual",
    lang: Annotated[Literal["vi", "en"], Query()] = "vi",
) -> Response:
    body = await disasters.atom_index(conn, web_base=settings.public_url, status=status, lang=lang)
    return Response(body, media_type=ATOM_MEDIA_TYPE)


@router.get("/disasters.geojson", summary="Active disaster zones as GeoJSON", response_class=JSONResponse)
async def disasters_geojson(
    conn: ConnDep,
    at: Annotated[datetime | None, Query(description="Active at this instant (default: now)")] = None,
    status: Annotated[str | None, Query(description="Only this CAP status")] = None,
) -> JSONResponse:
    moment = as_hue_time(at or datetime.now(TZ), "at")
    body = await disasters.zones_geojson(conn, at=moment, status=status)
    return JSONResponse(body, media_type="application/geo+json")
