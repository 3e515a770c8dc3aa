"""Hot-spot analysis outputs: runs, Gi* cells, emerging hot spots and forecast cells."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, LayerMixin, geometry, now_column, one_of, valid_geometry

HOTSPOT_PERIODS = ("day", "week", "month")
_EHSA_KINDS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating",
               "historical")  # fmt: skip
EHSA_PATTERNS = (*(f"{p}_{k}" for k in ("hot", "cold") for p in _EHSA_KINDS), "no_pattern")


class HotspotRun(Base):
    """One run of the hot-spot analyses: its parameters, the data it saw and its backtest report."""

    __tablename__ = "hotspot_runs"
    __table_args__ = (one_of("period", HOTSPOT_PERIODS), sa.CheckConstraint("cell_m > 0", name="cell_positive"))
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    created_at: Mapped[datetime] = now_column()
    # Published with the run: the role that started it ("gis_admin", "cli"); the person is in audit_log.
    actor: Mapped[str] = mapped_column(sa.Text, nullable=False)
    period: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    cell_m: Mapped[float] = mapped_column(sa.Float, nullable=False)
    report_category: Mapped[str | None] = mapped_column(sa.Text)
    params: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb"))
    study: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb"))
    backtest: Mapped[dict | None] = mapped_column(JSONB)
    chosen_model: Mapped[str] = mapped_column(sa.String(32), nullable=False)


class HotspotCellsMixin(LayerMixin):
    """Columns of every published hot-spot layer: the run, the grid cell and the report filter."""

    run_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("hotspot_runs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    cell_m: Mapped[float] = mapped_column(sa.Float, nullable=False)
    cell_i: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    cell_j: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    period: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    report_category: Mapped[str | None] = mapped_column(sa.Text)


class HotspotCell(HotspotCellsMixin, Base):
    """Getis-Ord Gi* hot and cold spots of reports per hexagon over a recent window (FDR-corrected)."""

    __tablename__ = "hotspot_cells"
    __table_args__ = (
        one_of("period", HOTSPOT_PERIODS),
        sa.CheckConstraint("gi_class BETWEEN -3 AND 3", name="class_range"),
        sa.CheckConstraint("window_end > window_start", name="window_ordered"),
        valid_geometry(),
    )
    window_start: Mapped[date] = mapped_column(sa.Date, nullable=False)
    window_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    events: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    gi_z: Mapped[float] = mapped_column(sa.Float, nullable=False)
    p_value: Mapped[float] = mapped_column(sa.Float, nullable=False)
    gi_class: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    label: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    geom = geometry("MULTIPOLYGON")


class EmergingHotspot(HotspotCellsMixin, Base):
    """Emerging Hot Spot Analysis category of a hexagon over the last time slices (docs/hotspots.md)."""

    __tablename__ = "emerging_hotspots"
    __table_args__ = (
        one_of("period", HOTSPOT_PERIODS),
        one_of("pattern", EHSA_PATTERNS),
        sa.CheckConstraint("last_slice >= first_slice", name="slices_ordered"),
        valid_geometry(),
    )
    slices: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    first_slice: Mapped[date] = mapped_column(sa.Date, nullable=False)
    last_slice: Mapped[date] = mapped_column(sa.Date, nullable=False)
    pattern: Mapped[str] = mapped_column(sa.String(24), nullable=False, index=True)
    events: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    hot_slices: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    cold_slices: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    final_z: Mapped[float] = mapped_column(sa.Float, nullable=False)
    trend_tau: Mapped[float] = mapped_column(sa.Float, nullable=False)
    trend_p: Mapped[float] = mapped_column(sa.Float, nullable=False)
    geom = geometry("MULTIPOLYGON")


class ForecastCell(HotspotCellsMixin, Base):
    """Expected reports per hexagon in the next period from the model that won the backtest."""

    __tablename__ = "forecast_cells"
    __table_args__ = (
        one_of("period", HOTSPOT_PERIODS),
        sa.CheckConstraint("expected >= 0", name="expected_positive"),
        sa.CheckConstraint("period_end > period_start", name="period_ordered"),
        valid_geometry(),
    )
    period_start: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    period_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    model: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    expected: Mapped[float] = mapped_column(sa.Float, nullable=False)
    rank: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    top_share: Mapped[float] = mapped_column(sa.Float, nullable=False)
    geom = geometry("MULTIPOLYGON")
