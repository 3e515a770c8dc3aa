"""The database schema's migrations: Alembic, configured from ``pyproject.toml``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from geo.settings import PROJECT_DIR, get_settings

if TYPE_CHECKING:
    from alembic.config import Config


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """What Alembic compares: the models' objects, not PostGIS's, nor the tables imports create (city data)."""
    from geoalchemy2 import alembic_helpers

    from geo.imported import TABLE_COMMENT

    if type_ == "table" and reflected and compare_to is None and getattr(obj, "comment", None) == TABLE_COMMENT:
        return False
    table = getattr(obj, "table", None)
    if type_ in ("index", "column", "unique_constraint") and getattr(table, "comment", None) == TABLE_COMMENT:
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration read from pyproject.toml, pointed at the platform's database."""
    from alembic.config import Config

    config = Config(toml_file=str(PROJECT_DIR / "pyproject.toml"))
    config.attributes["url"] = url or get_settings().sqlalchemy_url()
    return config


def migrate(revision: str = "heads", *, url: str | None = None) -> None:
    """Upgrade the schema to ``revision`` (``heads``: every branch)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(revision: str, *, url: str | None = None) -> None:
    """Downgrade the schema to ``revision`` (e.g. ``base`` or ``-1``)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)
