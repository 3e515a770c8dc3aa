"""Staff accounts, machine API keys and the audit log of staff writes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, now_column, one_of

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
    __table_args__ = (one_of("role", STAFF_ROLES), sa.CheckConstraint(STAFF_SCOPE_CHECK, name="scope_by_role"))
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.Text, nullable=False)
    role: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    unit_code: Mapped[str | None] = mapped_column(sa.String(5), sa.ForeignKey("admin_units.code"))
    department: Mapped[str | None] = mapped_column(sa.String(32), sa.ForeignKey("departments.code"))
    disabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, server_default=sa.false())
    created_at: Mapped[datetime] = now_column()
    # Bumped by a trigger (migration 0012) when the password, role, scope or disabled flag changes:
    # tokens carry the version they were issued for, so earlier tokens stop working.
    token_version: Mapped[int] = mapped_column(sa.Integer, nullable=False, server_default="0")


class ApiKey(Base):
    """A machine client's key: only its SHA-256 is stored; revoked keys stay for the audit trail."""

    __tablename__ = "api_keys"
    __table_args__ = (one_of("role", KEY_ROLES),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    created_at: Mapped[datetime] = now_column()
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class AuditLog(Base):
    """One staff action outside the report workflow (which report_events records): who, when, what."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    at: Mapped[datetime] = now_column(index=True)
    actor: Mapped[str] = mapped_column(sa.Text, nullable=False)
    role: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    action: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    object_type: Mapped[str] = mapped_column(sa.String(32), nullable=False, index=True)
    object_id: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb"))
