"""Disaster zones: validation, create, update, cancel, read; each change is a CAP message.

A zone's history is its CAP messages (``disaster_messages``): creation issues an ``Alert``, every
update an ``Update`` and cancellation a ``Cancel``, each referencing the messages before it. A
zone is *active* at t when ``onset <= t < expires`` and it was not cancelled by t.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo import audit, models
from geo.audit import Actor
from geo.db import fetch_one, load_sql
from geo.errors import Conflict, InvalidInput, NotFound
from geo.times import TZ, check_instant, parse_instant

IDENTIFIER_PREFIX = "HUEGIS-DZ-"
SOURCE_STAFF = "HueIOC disaster management (staff API)"

VOCABULARIES: dict[str, tuple[str, ...]] = {
    "hazard": models.HAZARDS,
    "category": models.CAP_CATEGORIES,
    "urgency": models.CAP_URGENCIES,
    "severity": models.CAP_SEVERITIES,
    "certainty": models.CAP_CERTAINTIES,
    "status": models.CAP_STATUSES,
}
REQUIRED_TEXT = ("event", "headline_vi", "headline_en")
OPTIONAL_TEXT = ("instruction_vi", "instruction_en")
FIELDS = (*REQUIRED_TEXT, *VOCABULARIES, *OPTIONAL_TEXT, "onset", "expires", "geometry")
MAX_TEXT = 4000
MAX_VERTICES = 50_000


def as_hue_time(value: datetime | str, name: str) -> datetime:
    """An aware datetime; a naive one (or a date) is read as Huế local time (UTC+07:00)."""
    if isinstance(value, str):
        return parse_instant(name, value)
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name}: expected a date-time, got {type(value).__name__}")
    return check_instant(name, value.replace(tzinfo=TZ) if value.tzinfo is None else value)


def validate_zone(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check a complete zone (vocabulary, texts, times, GeoJSON shape); ``InvalidInput`` names the problem.

    Geometry validity and position against the city need the database: see :func:`check_geometry`.
    """
    missing = [name for name in FIELDS if name not in OPTIONAL_TEXT and fields.get(name) is None]
    if missing:
        raise InvalidInput(f"missing field(s): {', '.join(missing)}")
    clean: dict[str, Any] = {}
    for name, allowed in VOCABULARIES.items():
        value = fields[name]
        if value not in allowed:
            raise InvalidInput(f"{name}: {value!r} is not a CAP 1.2 / HueGIS value; allowed: {', '.join(allowed)}")
        clean[name] = value
    for name in (*REQUIRED_TEXT, *OPTIONAL_TEXT):
        value = fields.get(name)
        if value is None:
            clean[name] = None
            continue
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{name}: must be non-empty text")
        if len(value) > MAX_TEXT:
            raise InvalidInput(f"{name}: {len(value)} characters, at most {MAX_TEXT}")
        clean[name] = value.strip()
    onset, expires = as_hue_time(fields["onset"], "onset"), as_hue_time(fields["expires"], "expires")
    if expires <= onset:
        raise InvalidInput(f"expires ({expires.isoformat()}) must be after onset ({onset.isoformat()})")
    clean["onset"], clean["expires"] = onset, expires
    clean["geometry"] = _check_geojson(fields["geometry"])
    return clean


def _check_geojson(geometry: Any) -> dict[str, Any]:
    """A GeoJSON Polygon or MultiPolygon with closed rings of lon/lat positions."""
    if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, Mapping) else type(geometry).__name__
        raise InvalidInput(f"geometry: expected a GeoJSON Polygon or MultiPolygon, got {kind!r}")
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise InvalidInput("geometry: coordinates are empty")
    vertices = 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise InvalidInput("geometry: a polygon needs at least one ring")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise InvalidInput("geometry: a ring needs at least 4 positions (the first repeated last)")
            for position in ring:
                if (
                    not isinstance(position, list | tuple)
                    or len(position) < 2
                    or not all(isinstance(c, int | float) and math.isfinite(c) for c in position[:2])
                ):
                    raise InvalidInput(f"geometry: {position!r} is not a [lon, lat] position")
                if len(position) > 2:  # the zone column is 2-D: a height would fail in PostGIS
                    raise InvalidInput(f"geometry: {position!r} has a height; send [lon, lat] positions only")
                lon, lat = position[0], position[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise InvalidInput(f"geometry: [{lon}, {lat}] is not a WGS 84 lon/lat position")
            if list(ring[0][:2]) != list(ring[-1][:2]):
                raise InvalidInput("geometry: a ring must end where it starts")
            vertices += len(ring)
    if vertices > MAX_VERTICES:
        raise InvalidInput(f"geometry: {vertices} vertices, at most {MAX_VERTICES}")
    return {"type": geometry["type"], "coordinates": coords}


async def check_geometry(conn: AsyncConnection, geometry: dict[str, Any]) -> None:
    """``InvalidInput`` unless the geometry is valid (OGC) and inside or overlapping the city."""
    try:
        row = await fetch_one(conn, "disasters/check_geometry", {"geojson": json.dumps(geometry)})
    except psycopg.errors.DataException as exc:  # PostGIS could not read the GeoJSON
        raise InvalidInput(f"geometry: not readable GeoJSON ({exc.diag.message_primary})") from exc
    except psycopg.errors.InternalError as exc:
        raise InvalidInput(f"geometry: not readable GeoJSON ({exc.diag.message_primary})") from exc
    if row is None:
        raise NotFound("the city outline is not loaded: run `huegis load --only admin_units`")
    if not row["valid"]:
        raise InvalidInput(f"geometry: invalid polygon ({row['reason']})")
    if not row["overlaps_city"]:
        raise InvalidInput(
            f"geometry: the zone lies {row['km_from_city']:.1f} km outside Thành phố Huế; "
            "a zone must be inside or overlap the city"
        )
    if row["area_km2"] <= 0:
        raise InvalidInput("geometry: the zone has no area")


async def get_zone(conn: AsyncConnection, *, zone_id: int, lock: bool = False) -> dict[str, Any]:
    """One zone with its GeoJSON geometry, ``active`` flag and CAP messages; ``NotFound`` otherwise."""
    query = load_sql("disasters/zone") + (" FOR UPDATE" if lock else "")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, {"id": zone_id})
        zone = await cur.fetchone()
        if zone is None:
            raise NotFound(f"no disaster zone {zone_id}")
        await cur.execute(load_sql("disasters/messages"), {"id": zone_id})
        zone["messages"] = await cur.fetchall()
    return zone


async def _issue(conn: AsyncConnection, zone_id: int, msg_type: str, actor: Actor, note: str | None) -> None:
    await conn.execute(
        load_sql("disasters/insert_message"),
        {"id": zone_id, "msg_type": msg_type, "prefix": IDENTIFIER_PREFIX, "actor": actor.role, "note": note},
    )


async def _audit(conn: AsyncConnection, actor: Actor, action: str, zone_id: int, details: dict[str, Any]) -> None:
    await audit.record(
        conn, actor=actor, action=action, object_type="disaster_zone", object_id=zone_id, details=details
    )


def _row(clean: Mapping[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in clean.items() if k != "geometry"}
    row["geojson"] = json.dumps(clean["geometry"])
    return row


async def create_zone(
    conn: AsyncConnection,
    *,
    fields: Mapping[str, Any],
    actor: Actor,
    source: str = SOURCE_STAFF,
    synthetic: bool = False,
) -> dict[str, Any]:
    """Validate and store a new zone, issue its CAP ``Alert`` and audit it; nothing is written when invalid."""
    clean = validate_zone(fields)
    await check_geometry(conn, clean["geometry"])
    async with conn.transaction():
        zone_id = await _insert_zone(conn, clean, actor, source=source, synthetic=synthetic)
        await _audit(conn, actor, "zone_create", zone_id, {"status": clean["status"], "event": clean["event"]})
    return await get_zone(conn, zone_id=zone_id)


async def _insert_zone(
    conn: AsyncConnection, clean: Mapping[str, Any], actor: Actor, *, source: str, synthetic: bool
) -> int:
    """Store a validated zone and its CAP ``Alert`` (in the caller's transaction); its id."""
    cur = await conn.execute(
        load_sql("disasters/insert_zone"), {**_row(clean), "source": source, "synthetic": synthetic}
    )
    created = await cur.fetchone()
    assert created is not None
    await _issue(conn, created[0], "Alert", actor, None)
    return created[0]


async def update_zone(
    conn: AsyncConnection, *, zone_id: int, changes: Mapping[str, Any], actor: Actor, note: str | None = None
) -> dict[str, Any]:
    """Apply ``changes`` to a zone, issue a CAP ``Update`` and audit it; ``Conflict`` once cancelled."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}; a zone has {', '.join(FIELDS)}")
    if not changes:
        raise InvalidInput("nothing to update: send at least one field")
    async with conn.transaction():
        current = await get_zone(conn, zone_id=zone_id, lock=True)
        if current["cancelled_at"] is not None:
            raise Conflict(f"disaster zone {zone_id} was cancelled at {current['cancelled_at'].isoformat()}")
        merged = {name: current[name] for name in FIELDS} | dict(changes)
        clean = validate_zone(merged)
        if "geometry" in changes:
            await check_geometry(conn, clean["geometry"])
        await conn.execute(load_sql("disasters/update_zone"), {**_row(clean), "id": zone_id})
        await _issue(conn, zone_id, "Update", actor, note)
        await _audit(conn, actor, "zone_update", zone_id, {"fields": sorted(changes), "note": note})
    return await get_zone(conn, zone_id=zone_id)


async def cancel_zone(conn: AsyncConnection, *, zone_id: int, actor: Actor, note: str | None = None) -> dict[str, Any]:
    """Cancel a zone from now on, issue a CAP ``Cancel`` and audit it; ``Conflict`` if already cancelled."""
    async with conn.transaction():
        current = await get_zone(conn, zone_id=zone_id, lock=True)
        if current["cancelled_at"] is not None:
            raise Conflict(f"disaster zone {zone_id} was already cancelled at {current['cancelled_at'].isoformat()}")
        await conn.execute(load_sql("disasters/cancel_zone"), {"id": zone_id})
        await _issue(conn, zone_id, "Cancel", actor, note)
        await _audit(conn, actor, "zone_cancel", zone_id, {"note": note})
    return await get_zone(conn, zone_id=zone_id)


async def zones_geojson(conn: AsyncConnection, *, at: datetime | None, status: str | None = None) -> dict[str, Any]:
    """Zones active at ``at`` (every zone when None) as a GeoJSON FeatureCollection in EPSG:4326."""
    if status is not None and status not in models.CAP_STATUSES:
        raise InvalidInput(f"status: {status!r} is not one of {', '.join(models.CAP_STATUSES)}")
    async with conn.cursor() as cur:
        await cur.execute(load_sql("disasters/zones_geojson"), {"at": at, "status": status})
        row = await cur.fetchone()
    assert row is not None
    return row[0]


async def create_flood_exercise(
    conn: AsyncConnection, *, return_period_years: int, onset: datetime, hours: int, actor: Actor
) -> dict[str, Any]:
    """A disaster zone (status ``Exercise``, synthetic) from a modelled flood scenario's extent, audited."""
    if not 1 <= hours <= 24 * 14:
        raise InvalidInput(f"hours={hours}: an exercise lasts 1 to 336 hours")
    scenario = await fetch_one(conn, "disasters/flood_scenario", {"rp": return_period_years})
    if scenario is None:
        raise NotFound(
            f"no flood scenario with a {return_period_years}-year return period; see /ogc/collections/flood_scenarios"
        )
    start = as_hue_time(onset, "onset")
    fields = {
        "event": "Lũ lụt (diễn tập)",
        "hazard": "flood",
        "category": "Met",
        "urgency": "Expected",
        "severity": "Severe" if return_period_years >= 20 else "Moderate",
        "certainty": "Possible",
        "status": "Exercise",
        "headline_vi": f"DIỄN TẬP: {scenario['name_vi']}, mực nước {scenario['stage_m']} m",
        "headline_en": f"EXERCISE: {scenario['name']}, water level {scenario['stage_m']} m",
        "instruction_vi": "Đây là diễn tập. Không sơ tán. Kiểm tra phương án ứng phó của đơn vị.",
        "instruction_en": "This is an exercise. Do not evacuate. Check your unit's response plan.",
        "onset": start,
        "expires": start + timedelta(hours=hours),
        "geometry": scenario["geometry"],
    }
    clean = validate_zone(fields)
    await check_geometry(conn, clean["geometry"])
    source = f"HueGIS flood scenario generator, {return_period_years}-year flood (synthetic)"
    details = {"return_period_years": return_period_years, "onset": start.isoformat(), "hours": hours}
    async with conn.transaction():
        zone_id = await _insert_zone(conn, clean, actor, source=source, synthetic=True)
        await _audit(conn, actor, "flood_exercise", zone_id, details)
    return await get_zone(conn, zone_id=zone_id)
