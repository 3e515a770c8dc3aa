"""Report history: index citizen_reports.duplicate_of.

Deleting a report makes PostgreSQL check, for that row, that no report names it in
``duplicate_of``; without an index that is a scan of the whole table per deleted row, so
replacing the 183,000-report synthetic history (layers/reports_history.py) never finished.
Written by hand: other branches (0003, 0004, 0007) grow at the same time.

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-27 21:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_citizen_reports_duplicate_of"), "citizen_reports", ["duplicate_of"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_citizen_reports_duplicate_of"), table_name="citizen_reports")
