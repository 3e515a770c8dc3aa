"""Join the security branch (token versions, actor roles) and the editing branch (feature history,
planning conflicts); neither touches the other's tables.

Revision ID: 0017
Revises: 0012, 0016
Create Date: 2026-12-06 06:20:00
"""

from collections.abc import Sequence

revision: str = "0017"
down_revision: tuple[str, ...] = ("0012", "0016")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
