"""Bookkeeping the platform runs on: layer loads, layer versions (tile cache), the simulation clock, monthly KPIs,
stored bottleneck detections."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, geometry, now_column, valid_geometry


class LayerLoad(Base):
    """What was last loaded into a layer, so a second load of the same input is skipped."""

    __tablename__ = "layer_loads"
    layer_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    checksum: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    rows: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    loaded_at: Mapped[datetime] = now_column()


class LayerVersion(Base):
    """A counter per layer bumped by a statement trigger on every change: the tile cache key."""

    __tablename__ = "layer_versions"
    layer_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, server_default="1")
    changed_at: Mapped[datetime] = now_column()


class SimulationClock(Base):
    """The living city's clock (one row): where the generated history ends, how far the simulator has come.

    ``history_until`` is kept so that a later ``huegis setup`` regenerates the same history (same
    seed, same end) instead of a new one each day; the simulator writes everything before
    ``simulated_until`` and goes on from there (layers/simulator.py).
    """

    __tablename__ = "simulation_clock"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    history_until: Mapped[date] = mapped_column(sa.Date, nullable=False)
    simulated_until: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = now_column()


class KpiUnitMonth(Base):
    """One ward/commune's report KPIs for one month, with its polygon: a choropleth layer.

    Rebuilt by ``huegis kpis refresh`` (and after report loads) from the one KPI query; the
    ``kpi-months`` job recomputes the unit-months a write touched (``kpi_dirty_months``). Besides
    the layer's fields it keeps what makes whole months add up exactly (docs/kpis.md):
    ``reopened``, ``rating_sum`` and every resolved report's hours to resolve (for the percentiles).
    """

    __tablename__ = "kpi_unit_month"
    __table_args__ = (
        sa.CheckConstraint("received >= 0 AND processed <= received", name="counts_consistent"),
        valid_geometry(),
    )
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(sa.String(5), sa.ForeignKey("admin_units.code"), nullable=False)
    unit_name: Mapped[str] = mapped_column(sa.Text, nullable=False)
    level: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    month: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    population: Mapped[int | None] = mapped_column(sa.Integer)
    received: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    processed: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    resolved: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    on_time: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    late_with_extension: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    late: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    rated: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    satisfied: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    backlog: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    overdue: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    processed_share: Mapped[float | None] = mapped_column(sa.Float)
    on_time_share: Mapped[float | None] = mapped_column(sa.Float)
    satisfied_share: Mapped[float | None] = mapped_column(sa.Float)
    mean_rating: Mapped[float | None] = mapped_column(sa.Float)
    median_hours_to_resolve: Mapped[float | None] = mapped_column(sa.Float)
    reports_per_10k: Mapped[float | None] = mapped_column(sa.Float)
    reopened: Mapped[int | None] = mapped_column(sa.Integer)
    rating_sum: Mapped[int | None] = mapped_column(sa.BigInteger)
    hours_to_resolve: Mapped[list[float] | None] = mapped_column(ARRAY(sa.Float))
    updated_at: Mapped[datetime] = now_column()
    geom = geometry("MULTIPOLYGON")


class KpiUnitShape(Base):
    """A ward/commune's simplified polygon for ``kpi_unit_month``, computed once by the full rebuild
    (the shapes of all units are simplified together), so that refreshing one unit-month needs none."""

    __tablename__ = "kpi_unit_shapes"
    __table_args__ = (valid_geometry(),)
    unit_code: Mapped[str] = mapped_column(sa.String(5), sa.ForeignKey("admin_units.code"), primary_key=True)
    updated_at: Mapped[datetime] = now_column()
    geom = geometry("MULTIPOLYGON")


class KpiMonth(Base):
    """A month ``kpi_unit_month`` holds complete: built for every unit (by a rebuild) as of ``built_at``.

    Complete while no ``kpi_dirty_months`` row names it; whole-month KPI requests are answered from
    the table only then.
    """

    __tablename__ = "kpi_months"
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)


class KpiDirtyMonth(Base):
    """A unit-month whose reports changed since ``kpi_unit_month`` last computed it.

    Appended by statement triggers on ``citizen_reports`` in the writer's transaction (no unique key:
    concurrent writers never wait on each other); the ``kpi-months`` job deletes the rows its snapshot
    sees and recomputes their unit-months in the same transaction, so a write it did not see stays marked.
    """

    __tablename__ = "kpi_dirty_months"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    unit_code: Mapped[str | None] = mapped_column(sa.String(5))
    month: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)


class BottleneckResult(Base):
    """The bottleneck flags of one standard period, computed by the bottleneck job (geo/analytics/bottleneck_table.py).

    ``key`` is the period: ``now/<days>`` for the last ``days`` days as of ``at`` (the time it ran), or
    ``YYYY-MM`` for a calendar month (``at``: its end). ``reports_version`` and ``last_event_id`` are what
    the detection saw: the ``citizen_reports`` layer version and the newest report event.
    """

    __tablename__ = "bottleneck_results"
    key: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    window_days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    running: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    seconds: Mapped[float] = mapped_column(sa.Float, nullable=False)
    reports_version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    last_event_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    flags: Mapped[list] = mapped_column(JSONB, nullable=False)


class ReportCell(Base):
    """Citizen reports per grid cell: what the low-zoom ``citizen_reports`` tiles are drawn from.

    A cell is one WebMercatorQuad tile (x, y: its column and row) of zoom 17 (~306 m square in
    EPSG:3857, ~294 m at Huế's latitude) or of zoom 14 (8 x 8 of those, ~2.4 km: the sums the tiles
    of zoom 8 and less read, a tenth of the rows). ``geom``: the cell's centre, for the spatial
    index. Kept by the ``report-cells`` job from the cells that intake and workflow marked in
    ``report_cells_dirty`` (migration 0027), rebuilt after history loads (geo/reports/cells.py).
    """

    __tablename__ = "report_cells"
    __table_args__ = (
        sa.CheckConstraint(
            "reports > 0 AND open_reports >= 0 AND resolved_reports >= 0"
            " AND open_reports + resolved_reports <= reports",
            name="counts_consistent",
        ),
        sa.CheckConstraint("zoom IN (14, 17)", name="zoom_levels"),
    )
    zoom: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    x: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    y: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    reports: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # Open: received, assigned, in progress, reopened; resolved: resolved or closed (the rest: rejected, duplicate).
    open_reports: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    resolved_reports: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    geom = geometry("POINT")


class ReportCellDirty(Base):
    """A zoom-17 cell whose reports changed since the ``report-cells`` job last counted it (marked by triggers)."""

    __tablename__ = "report_cells_dirty"
    x: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    y: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    # The first change not yet counted: now() minus the oldest is how far the aggregate is behind.
    marked_at: Mapped[datetime] = now_column()
