"""GeoAlchemy2 models: the schema of record (migrations are written from these).

Geometry is stored in EPSG:4326; every geometry column has a GiST index (GeoAlchemy2
adds it), a CHECK that the geometry is valid, and the type and SRID pinned by the column.
Every published layer has an integer ``id`` primary key (the OGC feature id), ``source``,
a ``synthetic`` flag and ``updated_at``.
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326

# Stable constraint names so migrations can drop what they create.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def geometry(kind: str) -> Mapped:
    """A NOT NULL geometry column of one type in EPSG:4326 with a spatial index."""
    return mapped_column(Geometry(kind, srid=SRID, spatial_index=True), nullable=False)


def valid_geometry() -> CheckConstraint:
    """CHECK that the stored geometry is valid (OGC validity, as ST_IsValid)."""
    return CheckConstraint("ST_IsValid(geom)", name="geom_valid")


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """CHECK that a text column holds one of a fixed vocabulary."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_vocabulary")


class LayerMixin:
    """Columns every published layer carries."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def ward_fk() -> Mapped[str | None]:
    return mapped_column(String(5), ForeignKey("admin_units.code"), index=True)


# --- administrative units -------------------------------------------------------------

ADMIN_LEVELS = ("city", "ward", "commune")


class AdminUnit(LayerMixin, Base):
    __tablename__ = "admin_units"
    __table_args__ = (
        one_of("level", ADMIN_LEVELS),
        CheckConstraint("population IS NULL OR population >= 0", name="population_positive"),
        CheckConstraint("(level = 'city') = (parent_code IS NULL)", name="parent_by_level"),
        valid_geometry(),
    )
    code: Mapped[str] = mapped_column(String(5), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_ascii: Mapped[str] = mapped_column(Text, nullable=False)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(String(5), ForeignKey("admin_units.code"))
    population: Mapped[int | None] = mapped_column(Integer)
    area_km2: Mapped[float] = mapped_column(Float, nullable=False)
    seat: Mapped[str | None] = mapped_column(Text)
    merged_from: Mapped[str | None] = mapped_column(Text)
    geom = geometry("MULTIPOLYGON")


# --- thematic layers ------------------------------------------------------------------

ZONE_TYPES = (
    "residential",
    "mixed_use",
    "commercial",
    "industrial",
    "heritage_conservation",
    "tourism",
    "public_facility",
    "green_space",
    "agriculture",
    "forest",
)


class PlanningZone(LayerMixin, Base):
    __tablename__ = "planning_zones"
    __table_args__ = (
        one_of("zone_type", ZONE_TYPES),
        CheckConstraint("max_far IS NULL OR max_far > 0", name="far_positive"),
        CheckConstraint("max_height_m IS NULL OR max_height_m > 0", name="height_positive"),
        valid_geometry(),
    )
    plan_code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    zone_type: Mapped[str] = mapped_column(String(32), nullable=False)
    max_far: Mapped[float | None] = mapped_column(Float)
    max_height_m: Mapped[float | None] = mapped_column(Float)
    approved_on: Mapped[date | None] = mapped_column(Date)
    ward_code = ward_fk()
    geom = geometry("MULTIPOLYGON")


# Vietnamese land-use codes (Circular 08/2024/TT-BTNMT), the subset a city cadastre holds.
LAND_USES = (
    "ODT",
    "ONT",
    "LUA",
    "CLN",
    "HNK",
    "RSX",
    "NTS",
    "TMD",
    "SKC",
    "DGD",
    "DYT",
    "DTT",
    "DDT",
    "TON",
    "NTD",
    "CQP",
)


class LandParcel(LayerMixin, Base):
    __tablename__ = "land_parcels"
    __table_args__ = (
        one_of("land_use", LAND_USES),
        CheckConstraint("area_m2 > 0", name="area_positive"),
        valid_geometry(),
    )
    parcel_no: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    map_sheet: Mapped[int] = mapped_column(Integer, nullable=False)
    land_use: Mapped[str] = mapped_column(String(3), nullable=False)
    area_m2: Mapped[float] = mapped_column(Float, nullable=False)
    holder_type: Mapped[str] = mapped_column(String(16), nullable=False)
    ward_code = ward_fk()
    geom = geometry("MULTIPOLYGON")


PERMIT_TYPES = ("new_build", "renovation", "repair", "demolition", "temporary")
PERMIT_STATUSES = ("issued", "under_construction", "completed", "expired", "revoked")


class ConstructionPermit(LayerMixin, Base):
    __tablename__ = "construction_permits"
    __table_args__ = (
        one_of("permit_type", PERMIT_TYPES),
        one_of("status", PERMIT_STATUSES),
        CheckConstraint("floors IS NULL OR floors BETWEEN 0 AND 60", name="floors_range"),
        CheckConstraint("expires_on IS NULL OR expires_on > issued_on", name="expires_after_issue"),
        valid_geometry(),
    )
    permit_no: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    project_name: Mapped[str] = mapped_column(Text, nullable=False)
    permit_type: Mapped[str] = mapped_column(String(16), nullable=False)
    building_use: Mapped[str] = mapped_column(String(32), nullable=False)
    floors: Mapped[int | None] = mapped_column(SmallInteger)
    floor_area_m2: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    expires_on: Mapped[date | None] = mapped_column(Date)
    ward_code = ward_fk()
    geom = geometry("POINT")


class TourismSite(LayerMixin, Base):
    __tablename__ = "tourism_sites"
    __table_args__ = (valid_geometry(),)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_vi: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    theme: Mapped[str] = mapped_column(String(16), nullable=False)
    geonames_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    elevation_m: Mapped[float | None] = mapped_column(Float)
    quality_note: Mapped[str | None] = mapped_column(Text)
    ward_code = ward_fk()
    geom = geometry("POINT")


FACILITY_TYPES = (
    "central_hospital",
    "city_hospital",
    "regional_hospital",
    "specialised_hospital",
    "private_hospital",
    "health_centre",
    "health_station",
    "clinic",
)


class HealthFacility(LayerMixin, Base):
    __tablename__ = "health_facilities"
    __table_args__ = (
        one_of("facility_type", FACILITY_TYPES),
        one_of("ownership", ("public", "private")),
        CheckConstraint("beds IS NULL OR beds >= 0", name="beds_positive"),
        valid_geometry(),
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    facility_type: Mapped[str] = mapped_column(String(32), nullable=False)
    ownership: Mapped[str] = mapped_column(String(8), nullable=False)
    beds: Mapped[int | None] = mapped_column(Integer)
    ward_code = ward_fk()
    geom = geometry("POINT")


SCHOOL_LEVELS = ("kindergarten", "primary", "lower_secondary", "upper_secondary", "university")


class School(LayerMixin, Base):
    __tablename__ = "schools"
    __table_args__ = (
        one_of("school_level", SCHOOL_LEVELS),
        one_of("ownership", ("public", "private")),
        CheckConstraint("students IS NULL OR students >= 0", name="students_positive"),
        valid_geometry(),
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    school_level: Mapped[str] = mapped_column(String(16), nullable=False)
    ownership: Mapped[str] = mapped_column(String(8), nullable=False)
    students: Mapped[int | None] = mapped_column(Integer)
    ward_code = ward_fk()
    geom = geometry("POINT")


# --- reference layers -----------------------------------------------------------------


class Road(LayerMixin, Base):
    __tablename__ = "roads"
    __table_args__ = (
        one_of("road_class", ("national", "provincial", "railway")),
        valid_geometry(),
    )
    ref: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text, nullable=False)
    road_class: Mapped[str] = mapped_column(String(16), nullable=False)
    length_km_in_city: Mapped[float] = mapped_column(Float, nullable=False)
    geom = geometry("MULTILINESTRING")


class WaterArea(LayerMixin, Base):
    __tablename__ = "water_areas"
    __table_args__ = (
        one_of("water_type", ("sea", "lagoon", "other")),
        valid_geometry(),
    )
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    water_type: Mapped[str] = mapped_column(String(8), nullable=False)
    area_km2_in_city: Mapped[float] = mapped_column(Float, nullable=False)
    geom = geometry("MULTIPOLYGON")


class River(LayerMixin, Base):
    __tablename__ = "rivers"
    __table_args__ = (valid_geometry(),)
    gshhg_id: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    name_basis: Mapped[str | None] = mapped_column(Text)
    length_km_in_city: Mapped[float] = mapped_column(Float, nullable=False)
    geom = geometry("LINESTRING")


class Place(LayerMixin, Base):
    """GeoNames places inside the city that are not tourism sites (villages, streams, hills)."""

    __tablename__ = "places"
    __table_args__ = (valid_geometry(),)
    geonames_id: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_vi: Mapped[str | None] = mapped_column(Text)
    feature_code: Mapped[str] = mapped_column(String(10), nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    group_name: Mapped[str] = mapped_column(String(16), nullable=False)
    ward_code = ward_fk()
    geom = geometry("POINT")


class StormTrack(LayerMixin, Base):
    __tablename__ = "storm_tracks"
    __table_args__ = (
        CheckConstraint("ended_at >= started_at", name="ends_after_start"),
        valid_geometry(),
    )
    storm_id: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    number_in_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    peak_wind_kt: Mapped[float | None] = mapped_column(Float)
    min_pressure_hpa: Mapped[float | None] = mapped_column(Float)
    peak_category: Mapped[str | None] = mapped_column(String(8))
    closest_km: Mapped[float] = mapped_column(Float, nullable=False)
    closest_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    wind_at_closest_kt: Mapped[float | None] = mapped_column(Float)
    category_at_closest: Mapped[str | None] = mapped_column(String(8))
    geom = geometry("LINESTRING")


class Dam(LayerMixin, Base):
    __tablename__ = "dams"
    __table_args__ = (valid_geometry(),)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    capacity_mw: Mapped[float | None] = mapped_column(Float)
    reservoir_mcm: Mapped[float | None] = mapped_column(Float)
    river_basin: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(Text)
    operating_since: Mapped[str | None] = mapped_column(Text)
    in_city: Mapped[bool] = mapped_column(Boolean, nullable=False)
    geom = geometry("POINT")


# --- citizen reports ------------------------------------------------------------------

CHANNELS = ("app", "web", "hotline", "open311")
REPORT_STATUSES = (
    "received",
    "assigned",
    "in_progress",
    "resolved",
    "closed",
    "rejected",
    "duplicate",
    "reopened",
)
PRIORITIES = ("low", "normal", "high", "urgent")


class Department(Base):
    """A city department or service company that handles city-level report categories."""

    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str] = mapped_column(Text, nullable=False)


RESPONSIBLE_LEVELS = ("ward", "city")


class ReportCategory(Base):
    """One kind of problem citizens report: who handles it and how fast (loaded from data)."""

    __tablename__ = "report_categories"
    __table_args__ = (
        one_of("level", RESPONSIBLE_LEVELS),
        CheckConstraint("sla_hours > 0", name="sla_positive"),
        CheckConstraint("(level = 'city') = (department IS NOT NULL)", name="department_by_level"),
        CheckConstraint("duplicate_radius_m > 0 AND duplicate_window_days > 0", name="duplicate_window_positive"),
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str] = mapped_column(Text, nullable=False)
    description_vi: Mapped[str] = mapped_column(Text, nullable=False)
    description_en: Mapped[str] = mapped_column(Text, nullable=False)
    group_name: Mapped[str] = mapped_column(String(32), nullable=False)
    keywords: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    department: Mapped[str | None] = mapped_column(String(32), ForeignKey("departments.code"))
    sla_hours: Mapped[int] = mapped_column(Integer, nullable=False)
    duplicate_radius_m: Mapped[int] = mapped_column(Integer, nullable=False)
    duplicate_window_days: Mapped[int] = mapped_column(Integer, nullable=False)
    # Open311 service-definition attributes: [{"code", "datatype", "required", "description", "values"}].
    attributes: Mapped[list] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    sort_order: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")


EXTENSION_STATUSES = ("requested", "approved", "rejected")


class CitizenReport(Base):
    """A citizen's geolocated field report; public columns only (the reporter is elsewhere)."""

    __tablename__ = "citizen_reports"
    __table_args__ = (
        one_of("channel", CHANNELS),
        one_of("status", REPORT_STATUSES),
        one_of("priority", PRIORITIES),
        one_of("responsible_level", RESPONSIBLE_LEVELS),
        one_of("extension_status", EXTENSION_STATUSES),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("char_length(description) BETWEEN 10 AND 4000", name="description_length"),
        CheckConstraint("due_at IS NULL OR due_at > received_at", name="due_after_received"),
        CheckConstraint("reopened_count BETWEEN 0 AND 1", name="reopened_once"),
        CheckConstraint("extension_hours IS NULL OR extension_hours > 0", name="extension_positive"),
        CheckConstraint("(responsible_level = 'city') = (department IS NOT NULL)", name="department_by_level"),
        valid_geometry(),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    category: Mapped[str] = mapped_column(String(32), ForeignKey("report_categories.code"), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    priority: Mapped[str] = mapped_column(String(8), nullable=False, server_default="normal")
    # Where it happened (always a ward/commune) and who must act (that unit, or a city department).
    admin_unit_code = ward_fk()
    responsible_level: Mapped[str] = mapped_column(String(8), nullable=False, server_default="ward")
    department: Mapped[str | None] = mapped_column(String(32), ForeignKey("departments.code"))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
    )
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Deadline extension: requested by the handling officer, approved or rejected by the unit head.
    extension_status: Mapped[str | None] = mapped_column(String(10))
    extension_hours: Mapped[int | None] = mapped_column(Integer)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    result_note: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    reopened_count: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    # Indexed: deleting reports checks this self-reference once per deleted row (migration 0006).
    duplicate_of: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("citizen_reports.id"), index=True)
    # Photos are files outside the database (settings.data_dir / "photos"); paths relative to it.
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    # A retried submission with the same key returns the first report (never a duplicate row).
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    geom = geometry("POINT")


class Reporter(Base):
    """Who filed a report and how to reach them: never read by a public endpoint."""

    __tablename__ = "reporters"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("citizen_reports.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    full_name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(Text)


class ReportEvent(Base):
    """One workflow transition of a report: the audit trail."""

    __tablename__ = "report_events"
    __table_args__ = (one_of("to_status", REPORT_STATUSES),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("citizen_reports.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    # Structured facts of the decision (routing from/to, extension hours, duplicate target…).
    details: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))


class HotlineCall(Base):
    """A call on the 1900 1075 hotline, in or out, possibly linked to the report it produced."""

    __tablename__ = "hotline_calls"
    __table_args__ = (
        one_of("direction", ("in", "out")),
        CheckConstraint("duration_s >= 0", name="duration_positive"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    duration_s: Mapped[int] = mapped_column(Integer, nullable=False)
    operator: Mapped[str] = mapped_column(Text, nullable=False)
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    report_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("citizen_reports.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())


# --- disasters (CAP 1.2 vocabulary) ---------------------------------------------------

CAP_CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
CAP_URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CAP_SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CAP_CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
CAP_STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
HAZARDS = (
    "flood",
    "flash_flood",
    "typhoon",
    "tropical_storm",
    "landslide",
    "storm_surge",
    "heavy_rain",
    "drought",
    "heat_wave",
    "other",
)


class DisasterZone(LayerMixin, Base):
    __tablename__ = "disaster_zones"
    __table_args__ = (
        one_of("hazard", HAZARDS),
        one_of("category", CAP_CATEGORIES),
        one_of("urgency", CAP_URGENCIES),
        one_of("severity", CAP_SEVERITIES),
        one_of("certainty", CAP_CERTAINTIES),
        one_of("status", CAP_STATUSES),
        CheckConstraint("expires > onset", name="expires_after_onset"),
        valid_geometry(),
    )
    event: Mapped[str] = mapped_column(Text, nullable=False)
    hazard: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[str] = mapped_column(String(10), nullable=False)
    urgency: Mapped[str] = mapped_column(String(10), nullable=False)
    severity: Mapped[str] = mapped_column(String(10), nullable=False)
    certainty: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    headline_vi: Mapped[str] = mapped_column(Text, nullable=False)
    headline_en: Mapped[str] = mapped_column(Text, nullable=False)
    instruction_vi: Mapped[str | None] = mapped_column(Text)
    instruction_en: Mapped[str | None] = mapped_column(Text)
    onset: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = geometry("MULTIPOLYGON")


# --- bookkeeping ----------------------------------------------------------------------


class LayerLoad(Base):
    """What was last loaded into a layer, so a second load of the same input is skipped."""

    __tablename__ = "layer_loads"
    layer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


# --- disasters (issue 5) ---------------------------------------------------------------

CAP_MSG_TYPES = ("Alert", "Update", "Cancel")
RASTER_KINDS = ("flood_depth", "storm_density")


class DisasterMessage(Base):
    """One CAP message issued for a zone (Alert, then Updates, then a Cancel): the zone's history."""

    __tablename__ = "disaster_messages"
    __table_args__ = (
        one_of("msg_type", CAP_MSG_TYPES),
        UniqueConstraint("zone_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    zone_id: Mapped[int] = mapped_column(Integer, ForeignKey("disaster_zones.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    msg_type: Mapped[str] = mapped_column(String(8), nullable=False)
    identifier: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    sent: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)


class StormExposure(LayerMixin, Base):
    """How many JTWC storms passed near one ward/commune, per decade and over the whole record."""

    __tablename__ = "storm_exposure"
    __table_args__ = (
        UniqueConstraint("ward_code", "period"),
        CheckConstraint("decade IS NULL OR decade % 10 = 0", name="decade_round"),
        CheckConstraint("storms_50km <= storms_100km AND storms_100km <= storms_300km", name="radii_nested"),
        valid_geometry(),
    )
    ward_code: Mapped[str] = mapped_column(String(5), ForeignKey("admin_units.code"), nullable=False)
    ward_name: Mapped[str] = mapped_column(Text, nullable=False)
    period: Mapped[str] = mapped_column(String(9), nullable=False)
    decade: Mapped[int | None] = mapped_column(SmallInteger)
    years: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    storms_50km: Mapped[int] = mapped_column(Integer, nullable=False)
    storms_50km_ts: Mapped[int] = mapped_column(Integer, nullable=False)
    storms_50km_ty: Mapped[int] = mapped_column(Integer, nullable=False)
    storms_100km: Mapped[int] = mapped_column(Integer, nullable=False)
    storms_100km_ts: Mapped[int] = mapped_column(Integer, nullable=False)
    storms_100km_ty: Mapped[int] = mapped_column(Integer, nullable=False)
    storms_300km: Mapped[int] = mapped_column(Integer, nullable=False)
    storms_300km_ts: Mapped[int] = mapped_column(Integer, nullable=False)
    storms_300km_ty: Mapped[int] = mapped_column(Integer, nullable=False)
    max_wind_kt_100km: Mapped[float | None] = mapped_column(Float)
    geom = geometry("MULTIPOLYGON")


class FloodScenario(LayerMixin, Base):
    """Modelled flood extent for one return period (synthetic: no DEM, see docs/disasters.md)."""

    __tablename__ = "flood_scenarios"
    __table_args__ = (
        CheckConstraint("return_period_years > 1", name="return_period_range"),
        CheckConstraint("area_km2 >= 0", name="area_positive"),
        valid_geometry(),
    )
    return_period_years: Mapped[int] = mapped_column(SmallInteger, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_vi: Mapped[str] = mapped_column(Text, nullable=False)
    stage_m: Mapped[float] = mapped_column(Float, nullable=False)
    reach_km: Mapped[float] = mapped_column(Float, nullable=False)
    area_km2: Mapped[float] = mapped_column(Float, nullable=False)
    max_depth_m: Mapped[float] = mapped_column(Float, nullable=False)
    mean_depth_m: Mapped[float] = mapped_column(Float, nullable=False)
    raster_name: Mapped[str] = mapped_column(String(64), nullable=False)
    geom = geometry("MULTIPOLYGON")


class Raster(LayerMixin, Base):
    """A hazard raster (Cloud-Optimized GeoTIFF under ``<data_dir>/rasters``) and its footprint."""

    __tablename__ = "rasters"
    __table_args__ = (
        one_of("kind", RASTER_KINDS),
        CheckConstraint("width > 0 AND height > 0 AND resolution_m > 0", name="size_positive"),
        valid_geometry(),
    )
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    title_vi: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    units: Mapped[str] = mapped_column(Text, nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    crs: Mapped[str] = mapped_column(String(16), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    resolution_m: Mapped[float] = mapped_column(Float, nullable=False)
    nodata: Mapped[float | None] = mapped_column(Float)
    min_value: Mapped[float] = mapped_column(Float, nullable=False)
    max_value: Mapped[float] = mapped_column(Float, nullable=False)
    colormap: Mapped[str] = mapped_column(String(16), nullable=False)
    geom = geometry("MULTIPOLYGON")


# --- tiles (issue 7) ---


class LayerVersion(Base):
    """A counter per layer bumped by a statement trigger on every change: the tile cache key."""

    __tablename__ = "layer_versions"
    layer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="1")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


# --- operations centre (issue 4) ---


class KpiUnitMonth(Base):
    """One ward/commune's report KPIs for one month, with its polygon: a choropleth layer.

    Rebuilt by ``huegis kpis refresh`` (and after report loads) from the one KPI query.
    """

    __tablename__ = "kpi_unit_month"
    __table_args__ = (
        CheckConstraint("received >= 0 AND processed <= received", name="counts_consistent"),
        valid_geometry(),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(5), ForeignKey("admin_units.code"), nullable=False)
    unit_name: Mapped[str] = mapped_column(Text, nullable=False)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    month: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    population: Mapped[int | None] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, nullable=False)
    processed: Mapped[int] = mapped_column(Integer, nullable=False)
    resolved: Mapped[int] = mapped_column(Integer, nullable=False)
    on_time: Mapped[int] = mapped_column(Integer, nullable=False)
    late_with_extension: Mapped[int] = mapped_column(Integer, nullable=False)
    late: Mapped[int] = mapped_column(Integer, nullable=False)
    rated: Mapped[int] = mapped_column(Integer, nullable=False)
    satisfied: Mapped[int] = mapped_column(Integer, nullable=False)
    backlog: Mapped[int] = mapped_column(Integer, nullable=False)
    overdue: Mapped[int] = mapped_column(Integer, nullable=False)
    processed_share: Mapped[float | None] = mapped_column(Float)
    on_time_share: Mapped[float | None] = mapped_column(Float)
    satisfied_share: Mapped[float | None] = mapped_column(Float)
    mean_rating: Mapped[float | None] = mapped_column(Float)
    median_hours_to_resolve: Mapped[float | None] = mapped_column(Float)
    reports_per_10k: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    geom = geometry("MULTIPOLYGON")


# --- hotspots (issue 6) ---

HOTSPOT_PERIODS = ("day", "week", "month")
_EHSA_KINDS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating",
               "historical")  # fmt: skip
EHSA_PATTERNS = (*(f"{p}_{k}" for k in ("hot", "cold") for p in _EHSA_KINDS), "no_pattern")


class HotspotRun(Base):
    """One run of the hot-spot analyses: its parameters, the data it saw and its backtest report."""

    __tablename__ = "hotspot_runs"
    __table_args__ = (one_of("period", HOTSPOT_PERIODS), CheckConstraint("cell_m > 0", name="cell_positive"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    period: Mapped[str] = mapped_column(String(8), nullable=False)
    cell_m: Mapped[float] = mapped_column(Float, nullable=False)
    report_category: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    study: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    backtest: Mapped[dict | None] = mapped_column(JSONB)
    chosen_model: Mapped[str] = mapped_column(String(32), nullable=False)


class HotspotCellsMixin(LayerMixin):
    """Columns of every published hot-spot layer: the run, the grid cell and the report filter."""

    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("hotspot_runs.id", ondelete="CASCADE"), nullable=False,
                                        index=True)  # fmt: skip
    cell_m: Mapped[float] = mapped_column(Float, nullable=False)
    cell_i: Mapped[int] = mapped_column(Integer, nullable=False)
    cell_j: Mapped[int] = mapped_column(Integer, nullable=False)
    period: Mapped[str] = mapped_column(String(8), nullable=False)
    report_category: Mapped[str | None] = mapped_column(Text)


class HotspotCell(HotspotCellsMixin, Base):
    """Getis-Ord Gi* hot and cold spots of reports per hexagon over a recent window (FDR-corrected)."""

    __tablename__ = "hotspot_cells"
    __table_args__ = (
        one_of("period", HOTSPOT_PERIODS),
        CheckConstraint("gi_class BETWEEN -3 AND 3", name="class_range"),
        CheckConstraint("window_end > window_start", name="window_ordered"),
        valid_geometry(),
    )
    window_start: Mapped[date] = mapped_column(Date, nullable=False)
    window_end: Mapped[date] = mapped_column(Date, nullable=False)
    events: Mapped[int] = mapped_column(Integer, nullable=False)
    gi_z: Mapped[float] = mapped_column(Float, nullable=False)
    p_value: Mapped[float] = mapped_column(Float, nullable=False)
    gi_class: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    label: Mapped[str] = mapped_column(String(16), nullable=False)
    geom = geometry("MULTIPOLYGON")


class EmergingHotspot(HotspotCellsMixin, Base):
    """Emerging Hot Spot Analysis category of a hexagon over the last time slices (docs/hotspots.md)."""

    __tablename__ = "emerging_hotspots"
    __table_args__ = (
        one_of("period", HOTSPOT_PERIODS),
        one_of("pattern", EHSA_PATTERNS),
        CheckConstraint("last_slice >= first_slice", name="slices_ordered"),
        valid_geometry(),
    )
    slices: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    first_slice: Mapped[date] = mapped_column(Date, nullable=False)
    last_slice: Mapped[date] = mapped_column(Date, nullable=False)
    pattern: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    events: Mapped[int] = mapped_column(Integer, nullable=False)
    hot_slices: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    cold_slices: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    final_z: Mapped[float] = mapped_column(Float, nullable=False)
    trend_tau: Mapped[float] = mapped_column(Float, nullable=False)
    trend_p: Mapped[float] = mapped_column(Float, nullable=False)
    geom = geometry("MULTIPOLYGON")


class ForecastCell(HotspotCellsMixin, Base):
    """Expected reports per hexagon in the next period from the model that won the backtest."""

    __tablename__ = "forecast_cells"
    __table_args__ = (
        one_of("period", HOTSPOT_PERIODS),
        CheckConstraint("expected >= 0", name="expected_positive"),
        CheckConstraint("period_end > period_start", name="period_ordered"),
        valid_geometry(),
    )
    period_start: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    model: Mapped[str] = mapped_column(String(32), nullable=False)
    expected: Mapped[float] = mapped_column(Float, nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    top_share: Mapped[float] = mapped_column(Float, nullable=False)
    geom = geometry("MULTIPOLYGON")


# --- staff accounts, API keys and the audit log (issue 8) ---

STAFF_ROLES = ("ward_officer", "department_officer", "unit_head", "operator", "city_leader", "emergency_officer",
               "gis_admin")  # fmt: skip
KEY_ROLES = ("open311_client", "hotline_system")
# Which unit or department each role's account names (geo.auth.roles holds the same rule as data).
STAFF_SCOPE_CHECK = (
    "CASE role WHEN 'ward_officer' THEN unit_code IS NOT NULL AND department IS NULL "
    "WHEN 'department_officer' THEN department IS NOT NULL AND unit_code IS NULL "
    "WHEN 'unit_head' THEN (unit_code IS NULL) <> (department IS NULL) "
    "ELSE unit_code IS NULL AND department IS NULL END"
)


class StaffUser(Base):
    """A staff account: argon2id password hash, one role, and the unit or department it acts for."""

    __tablename__ = "staff_users"
    __table_args__ = (one_of("role", STAFF_ROLES), CheckConstraint(STAFF_SCOPE_CHECK, name="scope_by_role"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    unit_code: Mapped[str | None] = mapped_column(String(5), ForeignKey("admin_units.code"))
    department: Mapped[str | None] = mapped_column(String(32), ForeignKey("departments.code"))
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class ApiKey(Base):
    """A machine client's key: only its SHA-256 is stored; revoked keys stay for the audit trail."""

    __tablename__ = "api_keys"
    __table_args__ = (one_of("role", KEY_ROLES),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditLog(Base):
    """One staff action outside the report workflow (which report_events records): who, when, what."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    object_type: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    object_id: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
