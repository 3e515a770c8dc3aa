"""Staff accounts, machine API keys and the audit log of staff writes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, one_of

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
