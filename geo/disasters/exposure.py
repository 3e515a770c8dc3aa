"""Exposure: what lies inside a disaster zone (facilities, schools, tourism sites, wards, open reports)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from geo.db import fetch_one
from geo.disasters.zones import get_zone
from geo.reports.workflow import OPEN_STATUSES


async def zone_exposure(conn: AsyncConnection, *, zone_id: int) -> dict[str, Any]:
    """Everything inside a zone, with counts; points on the zone's boundary count as inside.

    Wards are those the zone touches, with their population and the share of their area inside the
    zone (areas in EPSG:32648); ``population_in_zone_estimate`` spreads each ward's population
    evenly over its area, so it is a rough figure. Open reports are those not yet resolved.
    """
    zone = await get_zone(conn, zone_id=zone_id)
    found = await fetch_one(conn, "disasters/exposure", {"id": zone_id, "open_statuses": list(OPEN_STATUSES)})
    assert found is not None
    wards = found["wards"]
    counts = {name: len(found[name]) for name in ("health_facilities", "schools", "tourism_sites", "wards")}
    counts["open_reports"] = len(found["open_reports"])
    return {
        "zone": {
            k: zone[k]
            for k in (
                "id",
                "event",
                "hazard",
                "severity",
                "urgency",
                "status",
                "headline_vi",
                "headline_en",
                "onset",
                "expires",
                "cancelled_at",
                "active",
            )
        },
        "counts": counts,
        "population_of_wards": sum(w["population"] or 0 for w in wards),
        "population_in_zone_estimate": round(sum((w["population"] or 0) * w["share_of_area"] for w in wards)),
        **found,
    }
