"""The planning-conflict check: the rule table (zone type × use → verdict) and the conflicts layer."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base, LayerMixin, geometry, one_of, valid_geometry, ward_fk

# What a planning zone says of a use: allowed; conditional (allowed with a further approval, e.g. a
# heritage review or a change of land use); conflict (not allowed). ``unknown``: no rule, or no zone.
VERDICTS = ("allowed", "conditional", "conflict")
CHECK_VERDICTS = ("allowed", "unknown", "conditional", "no_permit", "conflict")  # mildest first
# What a rule applies to: a permit's building use, or a land parcel's land-use code.
RULE_SUBJECTS = ("building_use", "land_use")
CONFLICT_SUBJECTS = ("permit", "report")


class PlanningRule(Base):
    """One cell of the rule table, loaded from ``layers/data/catalogue/planning_rules.yml``."""

    __tablename__ = "planning_rules"
    __table_args__ = (one_of("subject", RULE_SUBJECTS), one_of("verdict", VERDICTS))
    zone_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    use: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    verdict: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    note: Mapped[str | None] = mapped_column(sa.Text)


class PlanningConflict(LayerMixin, Base):
    """A construction permit, or an open construction-violation report, at odds with the planning zone.

    Kept by triggers (migration 0016): rewritten when permits, zones, parcels or rules change, and
    per report when a construction-violation report is filed, moved or changes status.
    """

    __tablename__ = "planning_conflicts"
    __table_args__ = (
        one_of("subject_type", CONFLICT_SUBJECTS),
        one_of("verdict", CHECK_VERDICTS),
        sa.UniqueConstraint("subject_type", "subject_id"),
        valid_geometry(),
    )
    subject_type: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    subject_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    subject_code: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    building_use: Mapped[str | None] = mapped_column(sa.String(32))
    plan_code: Mapped[str | None] = mapped_column(sa.String(32))
    zone_type: Mapped[str | None] = mapped_column(sa.String(32))
    parcel_no: Mapped[str | None] = mapped_column(sa.String(32))
    land_use: Mapped[str | None] = mapped_column(sa.String(3))
    use_verdict: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    land_verdict: Mapped[str | None] = mapped_column(sa.String(12))  # None: no parcel surveyed there
    verdict: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    permit_no: Mapped[str | None] = mapped_column(sa.String(32))
    permit_distance_m: Mapped[float | None] = mapped_column(sa.Float)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    ward_code = ward_fk()
    geom = geometry("POINT")
