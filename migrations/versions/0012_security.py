"""Security: a token version per staff account, and roles (not usernames) on public documents.

``staff_users.token_version`` is bumped by a trigger whenever an account's password, role, scope or
disabled flag changes, whichever path changes it (API, CLI, SQL): tokens carry the version they were
issued for, so every earlier token stops working. ``disaster_messages.actor`` and
``hotspot_runs.actor`` are published (zone histories, run reports): they now hold the role that acted
(the person stays in ``audit_log``); existing usernames there are replaced by their role.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP_FUNCTION = """
CREATE FUNCTION huegis_bump_token_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.password_hash, NEW.role, NEW.unit_code, NEW.department, NEW.disabled)
       IS DISTINCT FROM (OLD.password_hash, OLD.role, OLD.unit_code, OLD.department, OLD.disabled) THEN
        NEW.token_version := OLD.token_version + 1;
    END IF;
    RETURN NEW;
END
$$
"""
STAFF_ROLES = ("ward_officer", "department_officer", "unit_head", "operator", "city_leader", "emergency_officer",
               "gis_admin")
# A username becomes the account's role; a CLI user ("cli:<OS user>") becomes "cli".
AS_ROLE = """
UPDATE {table} AS t
SET actor = coalesce((SELECT u.role FROM staff_users AS u WHERE u.username = t.actor),
                     CASE WHEN t.actor LIKE 'cli:%' THEN 'cli' ELSE 'staff' END)
WHERE t.actor NOT IN ('cli', 'staff', {roles})
"""


def upgrade() -> None:
    op.add_column("staff_users", sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))
    op.execute(BUMP_FUNCTION)
    op.execute(
        "CREATE TRIGGER token_version_bump BEFORE UPDATE ON staff_users "
        "FOR EACH ROW EXECUTE FUNCTION huegis_bump_token_version()"
    )
    for table in ("disaster_messages", "hotspot_runs"):
        op.execute(AS_ROLE.format(table=table, roles=", ".join(f"'{r}'" for r in STAFF_ROLES)))


def downgrade() -> None:
    op.execute("DROP TRIGGER token_version_bump ON staff_users")
    op.execute("DROP FUNCTION huegis_bump_token_version()")
    op.drop_column("staff_users", "token_version")
    # The usernames replaced by roles are not restored: audit_log still names each person.
