"""docker-compose.yml describes production correctly (no Docker engine here: we parse it)."""

from __future__ import annotations

import yaml

from geo.settings import PROJECT_DIR, Settings

COMPOSE = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())


def test_postgis_service_with_a_pg_isready_healthcheck() -> None:
    db = COMPOSE["services"]["db"]
    assert db["image"].startswith("postgis/postgis:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_app_waits_for_a_healthy_database_and_publishes_its_port() -> None:
    app = COMPOSE["services"]["app"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert "8000:8000" in app["ports"]
    assert (PROJECT_DIR / app["build"] / "Dockerfile").exists()


def test_app_environment_names_real_settings() -> None:
    fields = {f"HUEGIS_{name.upper()}" for name in Settings.model_fields}
    env = COMPOSE["services"]["app"]["environment"]
    assert set(env) <= fields, set(env) - fields
    assert env["HUEGIS_DB_HOST"] == "db"


def test_database_credentials_are_shared_between_services() -> None:
    db = COMPOSE["services"]["db"]["environment"]
    app = COMPOSE["services"]["app"]["environment"]
    assert db["POSTGRES_DB"] == app["HUEGIS_DB_NAME"]
    assert db["POSTGRES_USER"] == app["HUEGIS_DB_USER"]
    assert db["POSTGRES_PASSWORD"] == app["HUEGIS_DB_PASSWORD"]


def test_env_example_keys_are_settings() -> None:
    fields = {f"HUEGIS_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    keys = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (PROJECT_DIR / ".env.example").read_text().splitlines()
        if "=" in line
    }
    assert keys <= fields, keys - fields
