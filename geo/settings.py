"""The one settings object: environment variables (prefix ``HUEGIS_``) and ``.env``.

The database is either the project-local PostGIS cluster (default) or an external one named
by ``DATABASE_URL`` or by the libpq ``PG*`` variables.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import AliasChoices, Field, computed_field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Runtime configuration of HueGIS."""

    model_config = SettingsConfigDict(env_prefix="HUEGIS_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"

    # External database: DATABASE_URL wins; otherwise PGHOST (and friends) if set.
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL", "HUEGIS_DATABASE_URL"))

    # Project-local cluster (used when no external database is named).
    data_dir: Path = PROJECT_DIR / ".data"
    db_host: str = "127.0.0.1"
    db_port: int = 5433
    db_name: str = "huegis"
    db_user: str = "huegis"
    db_password: str = "huegis"
    pool_min_size: int = 1
    pool_max_size: int = 10
    connect_timeout_s: int = 3
    statement_timeout_ms: int = 30_000

    # Web server.
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"

    pygeoapi_config: Path = PROJECT_DIR / "pygeoapi-config.yml"

    seed: int = 20251

    @computed_field  # type: ignore[prop-decorator]
    @property
    def external_db(self) -> bool:
        """True when the platform must not start its own cluster."""
        return bool(self.database_url or os.environ.get("PGHOST"))

    @property
    def pygeoapi_openapi(self) -> Path:
        """Where the generated pygeoapi OpenAPI document lives."""
        return self.data_dir / "pygeoapi-openapi.yml"

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    def conninfo(self, **overrides: str | int) -> str:
        """libpq connection string of the database the platform uses."""
        if self.database_url:
            params = conninfo_to_dict(self.database_url.replace("postgresql+psycopg://", "postgresql://"))
        elif os.environ.get("PGHOST"):
            params = {}  # libpq reads PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE itself
        else:
            params = {
                "host": self.db_host,
                "port": self.db_port,
                "dbname": self.db_name,
                "user": self.db_user,
                "password": self.db_password,
            }
        params.setdefault("connect_timeout", self.connect_timeout_s)
        params.setdefault("application_name", "huegis")
        params.update(overrides)
        return make_conninfo(**params)  # type: ignore[arg-type]

    def sqlalchemy_url(self) -> str:
        """SQLAlchemy URL (psycopg 3 driver) for Alembic and GeoAlchemy2."""
        return "postgresql+psycopg:///?" + _query(self.conninfo())

    def db_params(self) -> dict[str, str]:
        """Resolved host/port/dbname/user/password, as pygeoapi's provider wants them."""
        params = conninfo_to_dict(self.conninfo())
        env = os.environ
        return {
            "host": str(params.get("host") or env.get("PGHOST", "127.0.0.1")),
            "port": str(params.get("port") or env.get("PGPORT", "5432")),
            "dbname": str(params.get("dbname") or env.get("PGDATABASE", env.get("PGUSER", "postgres"))),
            "user": str(params.get("user") or env.get("PGUSER", "postgres")),
            "password": str(params.get("password") or env.get("PGPASSWORD", "")),
        }

    def export_pygeoapi_env(self) -> None:
        """Expose the resolved settings to pygeoapi's YAML (``${HUEGIS_DB_HOST}`` …)."""
        names = {"host": "HOST", "port": "PORT", "dbname": "NAME", "user": "USER", "password": "PASSWORD"}
        for key, value in self.db_params().items():
            os.environ[f"HUEGIS_DB_{names[key]}"] = value
        os.environ["HUEGIS_PUBLIC_URL"] = self.public_url.rstrip("/")
        os.environ["PYGEOAPI_CONFIG"] = str(self.pygeoapi_config)
        os.environ["PYGEOAPI_OPENAPI"] = str(self.pygeoapi_openapi)


def _query(conninfo: str) -> str:
    from urllib.parse import urlencode

    return urlencode(conninfo_to_dict(conninfo))


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache to change them)."""
    return Settings()
