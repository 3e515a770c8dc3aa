"""The database schema's migrations: Alembic, configured from ``pyproject.toml``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.settings import PROJECT_DIR, get_settings

if TYPE_CHECKING:
    from alembic.config import Config


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
