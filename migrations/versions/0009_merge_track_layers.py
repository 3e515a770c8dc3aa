"""Join the branches (disasters, tiles, report history, operations and hot spots) and put every
layer created after the tile cache under its version trigger, so their tiles are cached too.

Revision ID: 0009
Revises: 0003, 0006, 0008
Create Date: 2026-11-27 22:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: tuple[str, ...] = ("0003", "0006", "0008")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Layers whose tables were created by revisions that did not know about layer_versions (0004).
LATER_LAYERS = (
    "storm_exposure",
    "flood_scenarios",
    "rasters",
    "kpi_unit_month",
)  # the hot-spot tables of 0008 are tracked there (it depends on 0004)


def upgrade() -> None:
    for table in LATER_LAYERS:
        op.execute(sa.text("SELECT huegis_track_layer(CAST(:t AS regclass))").bindparams(t=table))


def downgrade() -> None:
    for table in LATER_LAYERS:
        op.execute(f'DROP TRIGGER IF EXISTS layer_version_bump ON "{table}"')
        op.execute(sa.text("DELETE FROM layer_versions WHERE layer_id = :t").bindparams(t=table))
