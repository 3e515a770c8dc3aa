"""Join the branches of issue 14: layer imports (0011) and editing with planning conflicts (0016).

Nothing to change: the two touch different tables (imported_layers, layer_imports; feature_history,
planning_rules, planning_conflicts). The lead may renumber this merge when the branches land.

Revision ID: 0016a
Revises: 0011, 0016
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

revision: str = "0016a"
down_revision: tuple[str, ...] = ("0011", "0016")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
