"""``/api/disasters`` (zones: read, staff create/update/cancel, exposure) and ``/api/rasters``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ConnDep, SettingsDep, requires
from geo import disasters, models
from geo.auth import Principal
from geo.auth.roles import DISASTERS
from geo.disasters.zones import as_hue_time
from geo.rasters import get_raster, list_rasters, ward_zonal_stats
from geo.times import TZ

router = APIRouter(prefix="/api", tags=["disasters"])
# Zone writes: emergency officers only; each is a CAP message and an audit_log row, in one transaction.
EmergencyOfficer = Annotated[Principal, Depends(requires(DISASTERS))]

_VOCAB = "; ".join(
    f"{name}: {', '.join(values)}"
    for name, values in (
        ("hazard", models.HAZARDS),
        ("category", models.CAP_CATEGORIES),
        ("urgency", models.CAP_URGENCIES),
        ("severity", models.CAP_SEVERITIES),
        ("certainty", models.CAP_CERTAINTIES),
        ("status", models.CAP_STATUSES),
    )
)


class ZoneIn(BaseModel):
    """A new disaster zone. Times without an offset are Huế time (+07:00)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"description": f"CAP vocabulary: {_VOCAB}"})

    event: str = Field(examples=["Lũ lụt"])
    hazard: str = Field(examples=["flood"])
    category: str = Field(examples=["Met"])
    urgency: str = Field(examples=["Immediate"])
    severity: str = Field(examples=["Severe"])
    certainty: str = Field(examples=["Observed"])
    status: str = Field(default="Actual", examples=["Actual"])
    headline_vi: str
    headline_en: str
    instruction_vi: str | None = None
    instruction_en: str | None = None
    onset: datetime
    expires: datetime
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, lon/lat (EPSG:4326)")


class ZonePatch(BaseModel):
    """Fields to change (any subset); ``note`` goes into the CAP Update."""

    model_config = ConfigDict(extra="forbid")

    event: str | None = None
    hazard: str | None = None
    category: str | None = None
    urgency: str | None = None
    severity: str | None = None
    certainty: str | None = None
    status: str | None = None
    headline_vi: str | None = None
    headline_en: str | None = None
    instruction_vi: str | None = None
    instruction_en: str | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    geometry: dict[str, Any] | None = None
    note: str | None = Field(default=None, max_length=2000)


class CancelIn(BaseModel):
    """Why the zone is cancelled (goes into the CAP Cancel's note)."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)


class FloodExerciseIn(BaseModel):
    """An exercise zone from a modelled flood scenario."""

    model_config = ConfigDict(extra="forbid")
    return_period_years: int = Field(examples=[100])
    onset: datetime
    hours: int = Field(default=48, ge=1, le=336)


@router.get("/disasters", summary="Disaster zones as GeoJSON (active now by default)")
async def list_zones(
    conn: ConnDep,
    at: Annotated[datetime | None, Query(description="Zones active at this instant (default: now)")] = None,
    active: Annotated[bool, Query(description="false: every zone, whatever its dates")] = True,
    status: Annotated[str | None, Query(description="Only this CAP status (Actual, Exercise, ...)")] = None,
) -> dict:
    """A FeatureCollection of zones (EPSG:4326) with links to each CAP alert and exposure."""
    moment = (at or datetime.now(TZ)) if active else None
    if moment is not None:
        moment = as_hue_time(moment, "at")
    return await disasters.zones_geojson(conn, at=moment, status=status)


@router.get("/disasters/{zone_id}", summary="One disaster zone with its CAP message history")
async def read_zone(conn: ConnDep, zone_id: int) -> dict:
    return await disasters.get_zone(conn, zone_id=zone_id)


@router.post("/disasters", status_code=201, summary="Create a zone and issue its CAP Alert (staff)")
async def create_zone(conn: ConnDep, officer: EmergencyOfficer, body: ZoneIn) -> dict:
    """400 naming the problem (CAP vocabulary, times, invalid or far-away polygon); nothing is written then."""
    return await disasters.create_zone(conn, fields=body.model_dump(), actor=officer.actor)


@router.patch("/disasters/{zone_id}", summary="Change a zone and issue a CAP Update (staff)")
async def update_zone(conn: ConnDep, officer: EmergencyOfficer, zone_id: int, body: ZonePatch) -> dict:
    changes = body.model_dump(exclude_unset=True)
    note = changes.pop("note", None)
    return await disasters.update_zone(conn, zone_id=zone_id, changes=changes, actor=officer.actor, note=note)


@router.post("/disasters/{zone_id}/cancel", summary="Cancel a zone and issue a CAP Cancel (staff)")
async def cancel_zone(conn: ConnDep, officer: EmergencyOfficer, zone_id: int, body: CancelIn | None = None) -> dict:
    note = body.note if body else None
    return await disasters.cancel_zone(conn, zone_id=zone_id, actor=officer.actor, note=note)


@router.get("/disasters/{zone_id}/exposure", summary="Facilities, schools, sites, wards and open reports inside")
async def zone_exposure(conn: ConnDep, zone_id: int) -> dict:
    """Points on the zone's boundary count as inside; wards carry population and the share of their area inside."""
    return await disasters.zone_exposure(conn, zone_id=zone_id)


@router.post("/disasters/exercises/flood", status_code=201, summary="An Exercise zone from a flood scenario (staff)")
async def create_flood_exercise(conn: ConnDep, officer: EmergencyOfficer, body: FloodExerciseIn) -> dict:
    return await disasters.create_flood_exercise(
        conn, return_period_years=body.return_period_years, onset=body.onset, hours=body.hours, actor=officer.actor
    )


@router.get("/rasters", summary="The hazard rasters (COG) with their tile URL templates")
async def rasters(conn: ConnDep) -> list[dict]:
    return await list_rasters(conn)


@router.get("/rasters/{name}/zonal-stats", summary="Zonal statistics of a raster per ward/commune")
async def raster_zonal_stats(
    conn: ConnDep,
    settings: SettingsDep,
    name: str,
    threshold: Annotated[float, Query(description="Cells above this value count as exposed (m or storms)")] = 0.0,
) -> dict:
    """Per ward: valid cells, min/max/mean, cells and share above ``threshold``, that area in km²."""
    raster = await get_raster(conn, name=name, settings=settings)
    wards = await ward_zonal_stats(conn, raster=raster, threshold=threshold)
    info = {k: v for k, v in raster.items() if k != "file"}
    return {"raster": info, "threshold": threshold, "wards": wards}
