"""Disasters in the CAP 1.2 vocabulary: zones and their messages, storm exposure, flood scenarios, rasters."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, LayerMixin, geometry, now_column, one_of, valid_geometry

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
        sa.CheckConstraint("expires > onset", name="expires_after_onset"),
        valid_geometry(),
    )
    event: Mapped[str] = mapped_column(sa.Text, nullable=False)
    hazard: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    urgency: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    severity: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    certainty: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    headline_vi: Mapped[str] = mapped_column(sa.Text, nullable=False)
    headline_en: Mapped[str] = mapped_column(sa.Text, nullable=False)
    instruction_vi: Mapped[str | None] = mapped_column(sa.Text)
    instruction_en: Mapped[str | None] = mapped_column(sa.Text)
    onset: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, index=True)
    expires: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    geom = geometry("MULTIPOLYGON")


CAP_MSG_TYPES = ("Alert", "Update", "Cancel")
RASTER_KINDS = ("flood_depth", "storm_density")


class DisasterMessage(Base):
    """One CAP message issued for a zone (Alert, then Updates, then a Cancel): the zone's history."""

    __tablename__ = "disaster_messages"
    __table_args__ = (
        one_of("msg_type", CAP_MSG_TYPES),
        sa.UniqueConstraint("zone_id", "version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    zone_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("disaster_zones.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    msg_type: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    identifier: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    sent: Mapped[datetime] = now_column()
    # Published with the zone: the role that issued it ("emergency_officer", "cli"); the person is in audit_log.
    actor: Mapped[str] = mapped_column(sa.Text, nullable=False)
    note: Mapped[str | None] = mapped_column(sa.Text)


class StormExposure(LayerMixin, Base):
    """How many JTWC storms passed near one ward/commune, per decade and over the whole record."""

    __tablename__ = "storm_exposure"
    __table_args__ = (
        sa.UniqueConstraint("ward_code", "period"),
        sa.CheckConstraint("decade IS NULL OR decade % 10 = 0", name="decade_round"),
        sa.CheckConstraint("storms_50km <= storms_100km AND storms_100km <= storms_300km", name="radii_nested"),
        valid_geometry(),
    )
    ward_code: Mapped[str] = mapped_column(sa.String(5), sa.ForeignKey("admin_units.code"), nullable=False)
    ward_name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    period: Mapped[str] = mapped_column(sa.String(9), nullable=False)
    decade: Mapped[int | None] = mapped_column(sa.SmallInteger)
    years: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    storms_50km: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    storms_50km_ts: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    storms_50km_ty: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    storms_100km: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    storms_100km_ts: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    storms_100km_ty: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    storms_300km: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    storms_300km_ts: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    storms_300km_ty: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    max_wind_kt_100km: Mapped[float | None] = mapped_column(sa.Float)
    geom = geometry("MULTIPOLYGON")


class FloodScenario(LayerMixin, Base):
    """Modelled flood extent for one return period (synthetic: no DEM, see docs/disasters.md)."""

    __tablename__ = "flood_scenarios"
    __table_args__ = (
        sa.CheckConstraint("return_period_years > 1", name="return_period_range"),
        sa.CheckConstraint("area_km2 >= 0", name="area_positive"),
        valid_geometry(),
    )
    return_period_years: Mapped[int] = mapped_column(sa.SmallInteger, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    name_vi: Mapped[str] = mapped_column(sa.Text, nullable=False)
    stage_m: Mapped[float] = mapped_column(sa.Float, nullable=False)
    reach_km: Mapped[float] = mapped_column(sa.Float, nullable=False)
    area_km2: Mapped[float] = mapped_column(sa.Float, nullable=False)
    max_depth_m: Mapped[float] = mapped_column(sa.Float, nullable=False)
    mean_depth_m: Mapped[float] = mapped_column(sa.Float, nullable=False)
    raster_name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    geom = geometry("MULTIPOLYGON")


class Raster(LayerMixin, Base):
    """A hazard raster (Cloud-Optimized GeoTIFF under ``<data_dir>/rasters``) and its footprint."""

    __tablename__ = "rasters"
    __table_args__ = (
        one_of("kind", RASTER_KINDS),
        sa.CheckConstraint("width > 0 AND height > 0 AND resolution_m > 0", name="size_positive"),
        valid_geometry(),
    )
    name: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(sa.Text, nullable=False)
    title_vi: Mapped[str] = mapped_column(sa.Text, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    units: Mapped[str] = mapped_column(sa.Text, nullable=False)
    path: Mapped[str] = mapped_column(sa.Text, nullable=False)
    crs: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    width: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    height: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    resolution_m: Mapped[float] = mapped_column(sa.Float, nullable=False)
    nodata: Mapped[float | None] = mapped_column(sa.Float)
    min_value: Mapped[float] = mapped_column(sa.Float, nullable=False)
    max_value: Mapped[float] = mapped_column(sa.Float, nullable=False)
    colormap: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    geom = geometry("MULTIPOLYGON")
