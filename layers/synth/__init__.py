"""Seeded synthetic layers for Huế where no open data exists: planning, cadastre, permits, health, schools.

Every generator takes a :class:`SynthContext` (real wards, land mask, seed) and returns a
GeoDataFrame in EPSG:4326 whose columns are exactly its table's columns less ``id`` and
``updated_at``, with ``synthetic`` true on every row. The same seed gives the same rows.

>>> ctx = build_context("admin/hue_xa_phuong_2025.geojson", "water/hue_bien_dam_pha_gshhg.geojson", 20251)
>>> zones = GENERATORS["planning_zones"](ctx)
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd

from layers.synth.context import DEFAULT_SEED, SynthContext, build_context, read_wards
from layers.synth.health import generate_health_facilities
from layers.synth.parcels import generate_land_parcels
from layers.synth.permits import generate_construction_permits
from layers.synth.planning import generate_planning_zones
from layers.synth.schools import generate_schools

# Layer id (= table name) -> generator. Permits place themselves on this context's parcels.
GENERATORS: dict[str, Callable[[SynthContext], gpd.GeoDataFrame]] = {
    "planning_zones": generate_planning_zones,
    "land_parcels": generate_land_parcels,
    "construction_permits": generate_construction_permits,
    "health_facilities": generate_health_facilities,
    "schools": generate_schools,
}

__all__ = [
    "DEFAULT_SEED",
    "GENERATORS",
    "SynthContext",
    "build_context",
    "generate_construction_permits",
    "generate_health_facilities",
    "generate_land_parcels",
    "generate_planning_zones",
    "generate_schools",
    "read_wards",
]
