"""Bookkeeping the platform runs on: layer loads, layer versions (tile cache) and monthly KPIs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, geometry, valid_geometry


class LayerLoad(Base):
    """What was last loaded into a layer, so a second load of the same input is skipped."""

    __tablename__ = "layer_loads"
    layer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class LayerVersion(Base):
    """A counter per layer bumped by a statement trigger on every change: the tile cache key."""

    __tablename__ = "layer_versions"
    layer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="1")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


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
