"""Join the simulation clock (first screens) to the security and editing branches.

Revision ID: 0018
Revises: 0017, 0013
Create Date: 2026-12-06 06:40:00
"""

from collections.abc import Sequence

revision: str = "0018"
down_revision: tuple[str, ...] = ("0017", "0013")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
