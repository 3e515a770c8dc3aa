"""Staff accounts, machine API keys and the audit log.

Written by hand from geo.models (StaffUser, ApiKey, AuditLog).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF_ROLES = (
    "ward_officer",
    "department_officer",
    "unit_head",
    "operator",
    "city_leader",
    "emergency_officer",
    "gis_admin",
)
KEY_ROLES = ("open311_client", "hotline_system")
SCOPE_CHECK = (
    "CASE role WHEN 'ward_officer' THEN unit_code IS NOT NULL AND department IS NULL "
    "WHEN 'department_officer' THEN department IS NOT NULL AND unit_code IS NULL "
    "WHEN 'unit_head' THEN (unit_code IS NULL) <> (department IS NULL) "
    "ELSE unit_code IS NULL AND department IS NULL END"
)


def _one_of(values: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("unit_code", sa.String(length=5), nullable=True),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(_one_of(STAFF_ROLES), name=op.f("ck_staff_users_role_vocabulary")),
        sa.CheckConstraint(SCOPE_CHECK, name=op.f("ck_staff_users_scope_by_role")),
        sa.ForeignKeyConstraint(["unit_code"], ["admin_units.code"], name=op.f("fk_staff_users_unit_code")),
        sa.ForeignKeyConstraint(["department"], ["departments.code"], name=op.f("fk_staff_users_department")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_one_of(KEY_ROLES), name=op.f("ck_api_keys_role_vocabulary")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=True),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_object_type"), "audit_log", ["object_type"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("api_keys")
    op.drop_table("staff_users")
