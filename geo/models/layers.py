"""Published layers: administrative units, the thematic sector layers and the reference layers."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, LayerMixin, geometry, one_of, valid_geometry, ward_fk

ADMIN_LEVELS = ("city", "ward", "commune")


class AdminUnit(LayerMixin, Base):
    __tablename__ = "admin_units"
    __table_args__ = (
        one_of("level", ADMIN_LEVELS),
        sa.CheckConstraint("population IS NULL OR population >= 0", name="population_positive"),
        sa.CheckConstraint("(level = 'city') = (parent_code IS NULL)", name="parent_by_level"),
        valid_geometry(),
    )
    code: Mapped[str] = mapped_column(sa.String(5), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    name_ascii: Mapped[str] = mapped_column(sa.Text, nullable=False)
    level: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(sa.String(5), sa.ForeignKey("admin_units.code"))
    population: Mapped[int | None] = mapped_column(sa.Integer)
    area_km2: Mapped[float] = mapped_column(sa.Float, nullable=False)
    seat: Mapped[str | None] = mapped_column(sa.Text)
    merged_from: Mapped[str | None] = mapped_column(sa.Text)
    geom = geometry("MULTIPOLYGON")


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
        sa.CheckConstraint("max_far IS NULL OR max_far > 0", name="far_positive"),
        sa.CheckConstraint("max_height_m IS NULL OR max_height_m > 0", name="height_positive"),
        valid_geometry(),
    )
    plan_code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    zone_type: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    max_far: Mapped[float | None] = mapped_column(sa.Float)
    max_height_m: Mapped[float | None] = mapped_column(sa.Float)
    approved_on: Mapped[date | None] = mapped_column(sa.Date)
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
        sa.CheckConstraint("area_m2 > 0", name="area_positive"),
        valid_geometry(),
    )
    parcel_no: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    map_sheet: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    land_use: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    area_m2: Mapped[float] = mapped_column(sa.Float, nullable=False)
    holder_type: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    ward_code = ward_fk()
    geom = geometry("MULTIPOLYGON")


PERMIT_TYPES = ("new_build", "renovation", "repair", "demolition", "temporary")
PERMIT_STATUSES = ("issued", "under_construction", "completed", "expired", "revoked")


class ConstructionPermit(LayerMixin, Base):
    __tablename__ = "construction_permits"
    __table_args__ = (
        one_of("permit_type", PERMIT_TYPES),
        one_of("status", PERMIT_STATUSES),
        sa.CheckConstraint("floors IS NULL OR floors BETWEEN 0 AND 60", name="floors_range"),
        sa.CheckConstraint("expires_on IS NULL OR expires_on > issued_on", name="expires_after_issue"),
        valid_geometry(),
    )
    permit_no: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    project_name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    permit_type: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    building_use: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    floors: Mapped[int | None] = mapped_column(sa.SmallInteger)
    floor_area_m2: Mapped[float | None] = mapped_column(sa.Float)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    issued_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    ward_code = ward_fk()
    geom = geometry("POINT")


class TourismSite(LayerMixin, Base):
    __tablename__ = "tourism_sites"
    __table_args__ = (valid_geometry(),)
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    name_vi: Mapped[str | None] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    theme: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    geonames_id: Mapped[int | None] = mapped_column(sa.Integer, unique=True)
    elevation_m: Mapped[float | None] = mapped_column(sa.Float)
    quality_note: Mapped[str | None] = mapped_column(sa.Text)
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
        sa.CheckConstraint("beds IS NULL OR beds >= 0", name="beds_positive"),
        valid_geometry(),
    )
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    facility_type: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    ownership: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    beds: Mapped[int | None] = mapped_column(sa.Integer)
    ward_code = ward_fk()
    geom = geometry("POINT")


SCHOOL_LEVELS = ("kindergarten", "primary", "lower_secondary", "upper_secondary", "university")


class School(LayerMixin, Base):
    __tablename__ = "schools"
    __table_args__ = (
        one_of("school_level", SCHOOL_LEVELS),
        one_of("ownership", ("public", "private")),
        sa.CheckConstraint("students IS NULL OR students >= 0", name="students_positive"),
        valid_geometry(),
    )
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    school_level: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    ownership: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    students: Mapped[int | None] = mapped_column(sa.Integer)
    ward_code = ward_fk()
    geom = geometry("POINT")


class Road(LayerMixin, Base):
    __tablename__ = "roads"
    __table_args__ = (
        one_of("road_class", ("national", "provincial", "railway")),
        valid_geometry(),
    )
    ref: Mapped[str | None] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    road_class: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    length_km_in_city: Mapped[float] = mapped_column(sa.Float, nullable=False)
    geom = geometry("MULTILINESTRING")


class WaterArea(LayerMixin, Base):
    __tablename__ = "water_areas"
    __table_args__ = (
        one_of("water_type", ("sea", "lagoon", "other")),
        valid_geometry(),
    )
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    water_type: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    area_km2_in_city: Mapped[float] = mapped_column(sa.Float, nullable=False)
    geom = geometry("MULTIPOLYGON")


class River(LayerMixin, Base):
    __tablename__ = "rivers"
    __table_args__ = (valid_geometry(),)
    gshhg_id: Mapped[int] = mapped_column(sa.Integer, unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(sa.Text)
    name_basis: Mapped[str | None] = mapped_column(sa.Text)
    length_km_in_city: Mapped[float] = mapped_column(sa.Float, nullable=False)
    geom = geometry("LINESTRING")


class Place(LayerMixin, Base):
    """GeoNames places inside the city that are not tourism sites (villages, streams, hills)."""

    __tablename__ = "places"
    __table_args__ = (valid_geometry(),)
    geonames_id: Mapped[int] = mapped_column(sa.Integer, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    name_vi: Mapped[str | None] = mapped_column(sa.Text)
    feature_code: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    kind: Mapped[str] = mapped_column(sa.Text, nullable=False)
    group_name: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    ward_code = ward_fk()
    geom = geometry("POINT")


class StormTrack(LayerMixin, Base):
    __tablename__ = "storm_tracks"
    __table_args__ = (
        sa.CheckConstraint("ended_at >= started_at", name="ends_after_start"),
        valid_geometry(),
    )
    storm_id: Mapped[int] = mapped_column(sa.Integer, unique=True, nullable=False)
    year: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    number_in_year: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    peak_wind_kt: Mapped[float | None] = mapped_column(sa.Float)
    min_pressure_hpa: Mapped[float | None] = mapped_column(sa.Float)
    peak_category: Mapped[str | None] = mapped_column(sa.String(8))
    closest_km: Mapped[float] = mapped_column(sa.Float, nullable=False)
    closest_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    wind_at_closest_kt: Mapped[float | None] = mapped_column(sa.Float)
    category_at_closest: Mapped[str | None] = mapped_column(sa.String(8))
    geom = geometry("LINESTRING")


class Dam(LayerMixin, Base):
    __tablename__ = "dams"
    __table_args__ = (valid_geometry(),)
    name: Mapped[str] = mapped_column(sa.Text, nullable=False, unique=True)
    capacity_mw: Mapped[float | None] = mapped_column(sa.Float)
    reservoir_mcm: Mapped[float | None] = mapped_column(sa.Float)
    river_basin: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.Text)
    operating_since: Mapped[str | None] = mapped_column(sa.Text)
    in_city: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    geom = geometry("POINT")
