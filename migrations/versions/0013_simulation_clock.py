"""The living city's clock: the end of the generated history and how far the simulator has written.

Written by hand from geo.models (SimulationClock).

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "simulation_clock",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("history_until", sa.Date(), nullable=False),
        sa.Column("simulated_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_simulation_clock_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulation_clock")),
    )


def downgrade() -> None:
    op.drop_table("simulation_clock")
