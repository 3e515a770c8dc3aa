"""Test harness: a real PostGIS (the project's own cluster code), a throwaway database per run,
the platform served by uvicorn on a free port, and real HTTP clients."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator

import auth_helpers
import httpx
import psycopg
import pytest
from app_server import app_server
from chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Recorder
from playwright.sync_api import Browser, Page, sync_playwright

from geo import cluster
from geo.ogc.openapi import generate_openapi
from geo.schema import alembic_config
from geo.settings import Settings

# Fixtures shared by the disaster and feed tests (an emergency officer's headers, zones made through the API).
pytest_plugins = ["disaster_fixtures"]

TEST_DB = f"huegis_test_{os.getpid()}"
TEST_HISTORY_COUNT = 3000

# The suite's own traffic must not trip the rate limits: every server a test starts inherits this
# environment (tests/test_limits.py serves its own app with tight limits).
UNLIMITED = {"HUEGIS_RATE_LIMIT_INTAKE": "0", "HUEGIS_RATE_LIMIT_DEVICE": "0", "HUEGIS_RATE_LIMIT_LOGIN": "0",
             "HUEGIS_RATE_LIMIT_LOGIN_FAILURES": "0", "HUEGIS_RATE_LIMIT_LOGIN_USER": "0",
             "HUEGIS_RATE_LIMIT_LOGIN_BACKOFF": "0", "HUEGIS_RATE_LIMIT_EXPENSIVE": "0"}  # fmt: skip
# No scheduled SLA escalation in the suite's servers: it would write report_events in the middle of
# tests that prove reads change nothing (escalation on reading a queue is tested in test_reports).
# Nor the simulator: tests see only the data they made (test_simulator.py runs it itself). Nor the first
# hot-spot run at Huế's scale (test_first_screens.py runs the job with a small run and waits for it).
# Nor the bottleneck job: tests/test_bottleneck_table.py runs it when it means to. Nor the report-cells
# job: tests/test_report_tiles.py runs it (and a server with it) when it means to.
QUIET = {
    "HUEGIS_ESCALATION_INTERVAL_S": "0",
    "HUEGIS_SIMULATE": "false",
    "HUEGIS_HOTSPOTS_ON_START": "false",
    "HUEGIS_BOTTLENECK_INTERVAL_S": "0",
    "HUEGIS_REPORT_CELLS_INTERVAL_S": "0",
}
# The suite uploads small files: a 4 MiB import cap (512 MiB by default) lets the cap test stream
# a few MiB past it instead of half a gigabyte.
SMALL_IMPORTS = {"HUEGIS_IMPORT_MAX_BYTES": str(4 * 1024 * 1024)}
for _name, _value in {**UNLIMITED, **QUIET, **SMALL_IMPORTS}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings for a throwaway database in the local cluster (or in DATABASE_URL's server)."""
    base = Settings()
    if base.external_db:
        yield base
        return
    local = cluster.LocalCluster(base)
    was_running = local.running()
    local.start()
    test_settings = Settings(
        db_name=TEST_DB,
        pygeoapi_openapi_file=tmp_path_factory.mktemp("ogc") / "openapi.yml",
    )
    cluster.ensure_database(test_settings)
    yield test_settings
    cluster.drop_database(test_settings, TEST_DB)
    if not was_running:  # leave the machine as we found it
        local.stop()


@pytest.fixture(scope="session")
def loaded(settings: Settings) -> Settings:
    """The test database migrated and loaded with every layer."""
    from alembic import command

    from layers.bulletins import load_bulletins
    from layers.loaders import load_layers
    from layers.reports_history import history_params, load_history

    command.upgrade(alembic_config(settings.sqlalchemy_url()), "heads")
    load_layers(settings)
    load_bulletins(settings)  # past storm warnings, as `huegis load` writes them
    # The generated report history, small (183,000 in `make run`) so the suite stays fast.
    load_history(settings, history_params(settings, count=TEST_HISTORY_COUNT), progress=False)
    generate_openapi(settings)
    return settings


@pytest.fixture
def db(loaded: Settings) -> Iterator[psycopg.Connection]:
    """A direct connection to the loaded test database."""
    with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
        yield conn


@pytest.fixture
def staff_headers(loaded: Settings) -> Callable[..., dict[str, str]]:
    """Headers of a staff account of a role and scope, made once: ``staff_headers("ward_officer", unit="19753")``."""
    return functools.partial(auth_helpers.staff_headers, loaded)


@pytest.fixture(scope="session")
def server(loaded: Settings) -> Iterator[str]:
    """The platform served by uvicorn in a subprocess; yields its base URL."""
    env = {
        **os.environ,
        "HUEGIS_DB_NAME": loaded.db_name,
        "HUEGIS_PYGEOAPI_OPENAPI": str(loaded.pygeoapi_openapi),
    }
    with app_server(env, loaded.pygeoapi_openapi.parent / "uvicorn.log") as app:
        yield app.url


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as http:
        yield http


# --- headless Chromium (Debian's chromium driven by PyPI playwright) -----------------------


@pytest.fixture(scope="module")  # not session: playwright's sync API holds an event loop while open
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple[Page, Recorder]]:
    width, height = getattr(request, "param", (1280, 800))
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    tab = context.new_page()
    recorder = Recorder(tab)
    yield tab, recorder
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=ARTIFACTS / f"{request.node.name}.png")
    context.close()
    assert recorder.outside() == [], "every request must stay on 127.0.0.1"
    assert recorder.errors == []
