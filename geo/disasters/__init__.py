"""Disaster zones (CAP 1.2 vocabulary), their CAP messages and feeds, and what they expose."""

from geo.disasters.cap import atom_index, cap_alert, cap_time, render_cap
from geo.disasters.exposure import zone_exposure
from geo.disasters.zones import (
    cancel_zone,
    create_flood_exercise,
    create_zone,
    get_zone,
    update_zone,
    validate_zone,
    zones_geojson,
)

__all__ = [
    "atom_index",
    "cancel_zone",
    "cap_alert",
    "cap_time",
    "create_flood_exercise",
    "create_zone",
    "get_zone",
    "render_cap",
    "update_zone",
    "validate_zone",
    "zone_exposure",
    "zones_geojson",
]
