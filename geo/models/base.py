"""The declarative base, naming convention and the column helpers every model uses."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326

# Stable constraint names so migrations can drop what they create.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def geometry(kind: str) -> Mapped:
    """A NOT NULL geometry column of one type in EPSG:4326 with a spatial index."""
    return mapped_column(Geometry(kind, srid=SRID, spatial_index=True), nullable=False)


def valid_geometry() -> sa.CheckConstraint:
    """CHECK that the stored geometry is valid (OGC validity, as ST_IsValid)."""
    return sa.CheckConstraint("ST_IsValid(geom)", name="geom_valid")


def one_of(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    """CHECK that a text column holds one of a fixed vocabulary."""
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"{column}_vocabulary")


def now_column(*, index: bool | None = None) -> Mapped[datetime]:
    """A NOT NULL ``timestamptz`` that defaults to the time of the insert."""
    return mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now(), index=index)


class LayerMixin:
    """Columns every published layer carries."""

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    source: Mapped[str] = mapped_column(sa.Text, nullable=False)
    synthetic: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, server_default=sa.false())
    updated_at: Mapped[datetime] = now_column()


def ward_fk() -> Mapped[str | None]:
    return mapped_column(sa.String(5), sa.ForeignKey("admin_units.code"), index=True)
