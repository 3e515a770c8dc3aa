"""Citizen reports and their workflow: departments, categories, reports, reporters, events, hotline calls."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, geometry, now_column, one_of, valid_geometry, ward_fk

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
    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(sa.Text, nullable=False)
    name_en: Mapped[str] = mapped_column(sa.Text, nullable=False)


RESPONSIBLE_LEVELS = ("ward", "city")


class ReportCategory(Base):
    """One kind of problem citizens report: who handles it and how fast (loaded from data)."""

    __tablename__ = "report_categories"
    __table_args__ = (
        one_of("level", RESPONSIBLE_LEVELS),
        sa.CheckConstraint("sla_hours > 0", name="sla_positive"),
        sa.CheckConstraint("(level = 'city') = (department IS NOT NULL)", name="department_by_level"),
        sa.CheckConstraint("duplicate_radius_m > 0 AND duplicate_window_days > 0", name="duplicate_window_positive"),
    )
    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(sa.Text, nullable=False)
    name_en: Mapped[str] = mapped_column(sa.Text, nullable=False)
    description_vi: Mapped[str] = mapped_column(sa.Text, nullable=False)
    description_en: Mapped[str] = mapped_column(sa.Text, nullable=False)
    group_name: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    keywords: Mapped[str] = mapped_column(sa.Text, nullable=False, server_default="")
    level: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    department: Mapped[str | None] = mapped_column(sa.String(32), sa.ForeignKey("departments.code"))
    sla_hours: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    duplicate_radius_m: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    duplicate_window_days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # Open311 service-definition attributes: [{"code", "datatype", "required", "description", "values"}].
    attributes: Mapped[list] = mapped_column(JSONB, nullable=False, server_default=sa.text("'[]'::jsonb"))
    sort_order: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, server_default="0")


EXTENSION_STATUSES = ("requested", "approved", "rejected")
OPEN_WHERE = "status IN ('received', 'assigned', 'in_progress', 'reopened')"


class CitizenReport(Base):
    """A citizen's geolocated field report; public columns only (the reporter is elsewhere)."""

    __tablename__ = "citizen_reports"
    __table_args__ = (
        one_of("channel", CHANNELS),
        one_of("status", REPORT_STATUSES),
        one_of("priority", PRIORITIES),
        one_of("responsible_level", RESPONSIBLE_LEVELS),
        one_of("extension_status", EXTENSION_STATUSES),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        sa.CheckConstraint("char_length(description) BETWEEN 10 AND 4000", name="description_length"),
        sa.CheckConstraint("due_at IS NULL OR due_at > received_at", name="due_after_received"),
        sa.CheckConstraint("reopened_count BETWEEN 0 AND 1", name="reopened_once"),
        sa.CheckConstraint("extension_hours IS NULL OR extension_hours > 0", name="extension_positive"),
        # The open reports of a period (backlog and overdue of whole-month KPIs read from kpi_unit_month).
        sa.Index("ix_citizen_reports_open_received_at", "received_at", postgresql_where=sa.text(OPEN_WHERE)),
        sa.CheckConstraint("(responsible_level = 'city') = (department IS NOT NULL)", name="department_by_level"),
        valid_geometry(),
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True, nullable=False)
    category: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("report_categories.code"), nullable=False, index=True
    )
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    channel: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, index=True)
    priority: Mapped[str] = mapped_column(sa.String(8), nullable=False, server_default="normal")
    # Where it happened (always a ward/commune) and who must act (that unit, or a city department).
    admin_unit_code = ward_fk()
    responsible_level: Mapped[str] = mapped_column(sa.String(8), nullable=False, server_default="ward")
    department: Mapped[str | None] = mapped_column(sa.String(32), sa.ForeignKey("departments.code"))
    received_at: Mapped[datetime] = now_column(index=True)
    due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    assigned_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Deadline extension: requested by the handling officer, approved or rejected by the unit head.
    extension_status: Mapped[str | None] = mapped_column(sa.String(10))
    extension_hours: Mapped[int | None] = mapped_column(sa.Integer)
    extension_reason: Mapped[str | None] = mapped_column(sa.Text)
    result_note: Mapped[str | None] = mapped_column(sa.Text)
    rating: Mapped[int | None] = mapped_column(sa.SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(sa.Text)
    reopened_count: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, server_default="0")
    # Indexed: deleting reports checks this self-reference once per deleted row (migration 0006).
    duplicate_of: Mapped[int | None] = mapped_column(sa.BigInteger, sa.ForeignKey("citizen_reports.id"), index=True)
    # Photos are files outside the database (settings.data_dir / "photos"); paths relative to it.
    photos: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'"))
    # A retried submission with the same key returns the first report (never a duplicate row).
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(128), unique=True)
    synthetic: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, server_default=sa.false())
    updated_at: Mapped[datetime] = now_column()
    geom = geometry("POINT")


class Reporter(Base):
    """Who filed a report and how to reach them: never read by a public endpoint."""

    __tablename__ = "reporters"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("citizen_reports.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    full_name: Mapped[str | None] = mapped_column(sa.Text)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    email: Mapped[str | None] = mapped_column(sa.Text)
    device_id: Mapped[str | None] = mapped_column(sa.Text)


class ReportEvent(Base):
    """One workflow transition of a report: the audit trail."""

    __tablename__ = "report_events"
    __table_args__ = (one_of("to_status", REPORT_STATUSES),)
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("citizen_reports.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = now_column()
    actor: Mapped[str] = mapped_column(sa.Text, nullable=False)
    action: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    from_status: Mapped[str | None] = mapped_column(sa.String(12))
    to_status: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    note: Mapped[str | None] = mapped_column(sa.Text)
    # Structured facts of the decision (routing from/to, extension hours, duplicate target…).
    details: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb"))


class HotlineCall(Base):
    """A call on the 1900 1075 hotline, in or out, possibly linked to the report it produced."""

    __tablename__ = "hotline_calls"
    __table_args__ = (
        one_of("direction", ("in", "out")),
        sa.CheckConstraint("duration_s >= 0", name="duration_positive"),
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    direction: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, index=True)
    duration_s: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    operator: Mapped[str] = mapped_column(sa.Text, nullable=False)
    caller_phone: Mapped[str | None] = mapped_column(sa.String(32))
    report_id: Mapped[int | None] = mapped_column(
        sa.BigInteger, sa.ForeignKey("citizen_reports.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(sa.Text)
    synthetic: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, server_default=sa.false())
