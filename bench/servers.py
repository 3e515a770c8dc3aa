"""The servers under test, one uvicorn process each on a free port, all on the same database.

* ``ours``     - HueGIS (``api.main:create_app``), rate limits and the SLA job switched off;
* ``tipg``     - developmentseed's tipg in its own virtualenv (``.data/bench/venv-tipg``), so its
  FastAPI/pydantic pins never meet ours;
* ``pygeoapi`` - pygeoapi with its stock ``PostgreSQL`` provider, configured from our registry.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import yaml

from geo.ogc import config as ogc
from geo.registry import get_layer
from geo.settings import PROJECT_DIR, Settings
from tiles.vector import BUFFER

BENCH_DIR = PROJECT_DIR / ".data" / "bench"
LAYER = get_layer("citizen_reports")
# The release measured in ../shared/PERFORMANCE.md; it installs on Python 3.11.
TIPG_VERSION = "1.6.1"
TIPG_VENV = BENCH_DIR / "venv-tipg"
TIPG_COLLECTION = f"public.{LAYER.table_name}"
START_TIMEOUT_S = 120


@dataclass
class Server:
    """A running server: its name, base URL and process (with its log file)."""

    name: str
    base: str
    process: subprocess.Popen
    log: Path
    started_s: float = field(default=0.0)

    def stop(self) -> None:
        """Terminate the process (and kill it if it lingers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_logged(argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = PROJECT_DIR) -> None:
    """Run a preparation command, its output in ``log``; on failure show the log's tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd).returncode
    if code:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise SystemExit(f"`{' '.join(argv)}` failed (exit {code}); last lines of {log}:\n{tail}")


def prepare_database(settings: Settings) -> None:
    """``huegis setup`` on the bench database: cluster up, schema, layers and the 183k-report history.

    Idempotent: every layer and the history carry a checksum, so a second run loads nothing.
    """
    env = {**os.environ, "HUEGIS_DB_NAME": settings.db_name}
    _run_logged([str(Path(sys.executable).with_name("huegis")), "setup"], BENCH_DIR / "setup.log", env)


def ensure_tipg() -> Path:
    """tipg's uvicorn in its own virtualenv, installed from PyPI on first use."""
    uvicorn = TIPG_VENV / "bin" / "uvicorn"
    python = TIPG_VENV / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('tipg'))"]
    if uvicorn.exists() and subprocess.run(probe, capture_output=True, text=True).stdout.strip() == TIPG_VERSION:
        return uvicorn
    # The base interpreter, not our venv's, so nothing of ours leaks into tipg's environment.
    base_python = getattr(sys, "_base_executable", sys.executable)
    log = BENCH_DIR / "tipg-install.log"
    _run_logged([base_python, "-m", "venv", "--clear", str(TIPG_VENV)], log)
    _run_logged([str(python), "-m", "pip", "install", "--quiet", f"tipg=={TIPG_VERSION}", "uvicorn[standard]"], log)
    return uvicorn


def _start(name: str, argv: list[str], env: dict[str, str], ready_path: str, port: int, cwd: Path) -> Server:
    """Start a server and wait until ``ready_path`` answers 200."""
    log = BENCH_DIR / f"server-{name}.log"
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    server = Server(name, base, process, log)
    deadline = started + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(base + ready_path, timeout=10).status_code == 200:
                server.started_s = time.monotonic() - started
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.stop()
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
    raise SystemExit(f"{name} did not become ready on {base}{ready_path}; last lines of {log}:\n{tail}")


def _uvicorn_args(port: int, workers: int = 1) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log",
            "--log-level", "warning"]  # fmt: skip


def start_ours(settings: Settings, *, name: str = "ours", workers: int = 1,
               extra_env: dict[str, str] | None = None, cwd: Path = PROJECT_DIR) -> Server:  # fmt: skip
    """HueGIS as deployed (``workers`` processes), with the abuse limits off: the bench is one client at full speed.

    ``extra_env``: more settings, e.g. ``HUEGIS_FEATURE_COUNTS=0`` (count on every request) or
    ``HUEGIS_LOCAL_REPLICAS=1`` (public reads from a streaming replica). ``cwd``: the tree whose code
    runs (another checkout, e.g. the code before a change, with ``PYTHONPATH`` in ``extra_env``).
    """
    port = free_port()
    env = {
        **os.environ,
        "HUEGIS_DB_NAME": settings.db_name,
        "HUEGIS_PORT": str(port),
        "HUEGIS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HUEGIS_ESCALATION_INTERVAL_S": "0",
        "HUEGIS_BOTTLENECK_INTERVAL_S": "0",  # the table is read, not refreshed, during a measurement
        "HUEGIS_KPI_MONTHS_INTERVAL_S": "0",  # likewise kpi_unit_month (written months: read from the reports)
        "HUEGIS_RATE_LIMIT_INTAKE": "0",
        "HUEGIS_RATE_LIMIT_DEVICE": "0",
        "HUEGIS_RATE_LIMIT_LOGIN": "0",
        "HUEGIS_RATE_LIMIT_EXPENSIVE": "0",
        "HUEGIS_RATE_LIMIT_ENABLED": "false",
        **(extra_env or {}),
    }
    # Startup on a busy machine can take longer than uvicorn's 5 s worker health check.
    argv = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", *_uvicorn_args(port, workers),
            "--timeout-worker-healthcheck", "60"]  # fmt: skip
    return _start(name, argv, env, "/healthz", port, cwd)


def start_ours_counting(settings: Settings) -> Server:
    """HueGIS counting numberMatched on every request, as tipg and pygeoapi do (the like-for-like setting)."""
    return start_ours(settings, name="ours-count", extra_env={"HUEGIS_FEATURE_COUNTS": "0"})


def _db_url(settings: Settings) -> str:
    p = settings.db_params()
    return f"postgresql://{quote(p['user'])}:{quote(p['password'], safe='')}@{p['host']}:{p['port']}/{p['dbname']}"


def start_tipg(settings: Settings) -> Server:
    """tipg on ``citizen_reports`` only: the report code as feature id, our public fields, our tile buffer."""
    uvicorn = ensure_tipg()
    port = free_port()
    conf = f"TIPG_TABLE_CONFIG__public_{LAYER.table_name}__"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(BENCH_DIR)),
        "DATABASE_URL": _db_url(settings),
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": json.dumps([TIPG_COLLECTION]),
        conf + "PK": LAYER.id_field,
        conf + "GEOMCOL": "geom",
        conf + "DATETIMECOL": LAYER.time_field or "",
        conf + "PROPERTIES": json.dumps(list(LAYER.fields)),
        # Same tile content as ours: our feature cap from z12 and our buffer (tipg: 10,000 and 256).
        "TIPG_MAX_FEATURES_PER_TILE": "20000",
        "TIPG_TILE_BUFFER": str(BUFFER),
        # No catalogue refresh in the middle of a measurement.
        "TIPG_CATALOG_TTL": "3600",
    }
    argv = [str(uvicorn), "tipg.main:app", *_uvicorn_args(port)]
    # Its own directory: pydantic-settings would read a .env in the working directory.
    return _start("tipg", argv, env, "/healthz", port, BENCH_DIR)


def pygeoapi_config(settings: Settings, base: str, port: int) -> dict:
    """pygeoapi's configuration for ``citizen_reports`` from our registry, with the stock provider."""
    server = ogc.server_section()
    server.pop("templates", None)  # pygeoapi's own templates
    server["url"] = base
    server["bind"] = {"host": "127.0.0.1", "port": port}
    resource = ogc.collection(LAYER)
    provider = {
        "type": "feature",
        "name": "PostgreSQL",
        "data": {**settings.db_params(), "search_path": ["public"]},
        "id_field": LAYER.id_field,
        "table": LAYER.table_name,
        "geom_field": "geom",
        "properties": list(LAYER.fields),
    }
    if LAYER.time_field:
        provider["time_field"] = LAYER.time_field
    resource["providers"] = [provider]
    return {
        "server": server,
        "logging": {"level": "ERROR"},
        "metadata": ogc.metadata_section(),
        "resources": {LAYER.id: resource},
    }


def start_pygeoapi(settings: Settings) -> Server:
    """pygeoapi 0.21's Starlette app with the stock PostgreSQL provider (its OpenAPI document generated first)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = BENCH_DIR / "pygeoapi-peer.yml"
    openapi = BENCH_DIR / "pygeoapi-peer-openapi.yml"
    config.write_text(yaml.safe_dump(pygeoapi_config(settings, base, port), sort_keys=False, allow_unicode=True))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    pygeoapi = str(Path(sys.executable).with_name("pygeoapi"))
    _run_logged([pygeoapi, "openapi", "generate", str(config), "--output-file", str(openapi)],
                BENCH_DIR / "pygeoapi-openapi.log", env)  # fmt: skip
    argv = [sys.executable, "-m", "uvicorn", "pygeoapi.starlette_app:APP", *_uvicorn_args(port)]
    return _start("pygeoapi", argv, env, f"/collections/{LAYER.id}?f=json", port, BENCH_DIR)
