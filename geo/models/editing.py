"""The history of staff edits to layer features (OGC API Features Part 4): who, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, now_column, one_of

EDIT_ACTIONS = ("create", "replace", "patch", "delete", "restore")


class FeatureChange(Base):
    """One change of one feature: its state before and after (``{"properties", "geometry"}``, None when absent).

    ``version`` counts the feature's changes from 1; a restore names the version it brought back.
    """

    __tablename__ = "feature_history"
    __table_args__ = (
        one_of("action", EDIT_ACTIONS),
        sa.UniqueConstraint("layer_id", "feature_id", "version"),
        sa.CheckConstraint("version > 0", name="version_positive"),
        sa.CheckConstraint("before IS NOT NULL OR after IS NOT NULL", name="state_recorded"),
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    layer_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    feature_id: Mapped[str] = mapped_column(sa.Text, nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    action: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    actor: Mapped[str] = mapped_column(sa.Text, nullable=False)
    role: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    at: Mapped[datetime] = now_column(index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    restored_from: Mapped[int | None] = mapped_column(sa.Integer)
    note: Mapped[str | None] = mapped_column(sa.Text)
