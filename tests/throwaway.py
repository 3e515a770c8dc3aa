"""A throwaway platform: a cluster of its own (optionally with streaming replicas) and an app on it.

Never the shared dev cluster: a ``LocalCluster`` in a temporary directory on a free port, set up
with the project's CLI (schema, admin units and the report catalogue), and the app served on
another free port, by uvicorn or by ``huegis serve`` (which starts HUEGIS_LOCAL_REPLICAS).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from app_server import app_server, free_port

from geo import cluster
from geo.replicas import local_replicas
from geo.settings import PROJECT_DIR, Settings


@dataclass
class Platform:
    """The throwaway cluster and the app server in front of it."""

    settings: Settings
    cluster: cluster.LocalCluster
    url: str
    app: subprocess.Popen
    env: dict[str, str]

    def huegis(self, *args: str) -> str:
        """Run the CLI on this platform; its standard output."""
        return huegis(self.env, *args)

    def replica_status(self) -> list[dict[str, Any]]:
        """``huegis db replica status --json`` (exit 3 when one is not streaming is fine here)."""
        cli = Path(sys.executable).with_name("huegis")
        done = subprocess.run([str(cli), "db", "replica", "status", "--json"], env=self.env, cwd=PROJECT_DIR,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode in (0, 3), done.stderr
        return json.loads(done.stdout)


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> bool:
    """True once ``condition()`` holds, polling every 0.2 s; False after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def platform_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of our CLI and app processes: only this platform's settings."""
    foreign = ("HUEGIS_", "PG", "DATABASE_URL")
    env = {key: value for key, value in os.environ.items() if not key.startswith(foreign)}
    return {
        **env,
        "HUEGIS_DATA_DIR": str(settings.data_dir),
        "HUEGIS_DB_HOST": settings.db_host,
        "HUEGIS_DB_PORT": str(settings.db_port),
        "HUEGIS_DB_NAME": settings.db_name,
        "HUEGIS_ESCALATION_INTERVAL_S": "0",
        # Clients from one address are a load test, not abuse: no rate limits.
        "HUEGIS_RATE_LIMIT_INTAKE": "0",
        "HUEGIS_RATE_LIMIT_DEVICE": "0",
        "HUEGIS_RATE_LIMIT_EXPENSIVE": "0",
        **(extra or {}),
    }


def huegis(env: dict[str, str], *args: str) -> str:
    cli = Path(sys.executable).with_name("huegis")
    done = subprocess.run([str(cli), *args], env=env, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"huegis {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done.stdout


@contextmanager
def throwaway_platform(prefix: str, *, workers: int = 1, replicas: int = 0,
                       extra_env: Mapping[str, str] | None = None) -> Iterator[Platform]:  # fmt: skip
    """A cluster of our own with the admin units and report catalogue, ``replicas`` streaming
    replicas, and the app (``workers`` processes) on it; everything removed afterwards."""
    # In /tmp rather than pytest's private tmp dir: as root the cluster runs as `postgres`,
    # which must be able to reach its data directory.
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    data_dir.chmod(0o755)
    settings = Settings(data_dir=data_dir, db_host="127.0.0.1", db_port=free_port(), db_name="huegis",
                        local_replicas=replicas, replica_port_base=free_port())  # fmt: skip
    local = cluster.LocalCluster(settings)
    replica_env = {"HUEGIS_LOCAL_REPLICAS": str(replicas), "HUEGIS_REPLICA_PORT_BASE": str(settings.replica_port_base)}
    env = platform_env(settings, {**replica_env, **(extra_env or {})})
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name in ("DATABASE_URL", "HUEGIS_DATABASE_URL", "PGHOST"):
                mp.delenv(name, raising=False)  # this test's settings name the local cluster
            huegis(env, "db", "start")
            huegis(env, "db", "migrate")
            huegis(env, "load", "--only", "admin_units")  # loads the report catalogue too
            huegis(env, "ogc", "openapi")
            # Through the CLI when there are replicas: `huegis serve` starts them.
            # Several workers and a replica copy take longer to start on a busy machine.
            with app_server(env, data_dir / "app.log", workers=workers, cli=replicas > 0,
                            ready_within_s=60 if workers == 1 and not replicas else 240) as app:  # fmt: skip
                yield Platform(settings, local, app.url, app.process, env)
    finally:
        for replica in local_replicas(local):
            replica.stop("immediate")
        local.stop("immediate")  # throwaway: nothing to flush
        shutil.rmtree(data_dir, ignore_errors=True)
