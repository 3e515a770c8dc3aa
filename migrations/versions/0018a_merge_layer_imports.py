"""Join layer imports (0011, issue 14) with the merged branches of issues 14 (editing), 15 and 16 (0018).

Nothing to change: layer imports touch only their own tables (imported_layers, layer_imports) and
the tables they create. The lead may renumber this merge when the branch lands.

Revision ID: 0018a
Revises: 0011, 0018
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

revision: str = "0018a"
down_revision: tuple[str, ...] = ("0011", "0018")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
