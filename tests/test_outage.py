"""Outages: PostGIS crashes under a load of report submissions; no acknowledged report is lost.

Runs against its own throwaway cluster and app server (never the shared dev cluster): a
``LocalCluster`` in a temporary directory on a free port, set up with the project's CLI, and
uvicorn on another free port. Eight clients file reports while the cluster is crash-stopped
(``pg_ctl stop -m immediate``) and restarted; the same app process must answer 503 meanwhile and
recover by itself, and every report it acknowledged must be in the database exactly once.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from app_server import app_server, free_port

from geo import cluster
from geo.settings import PROJECT_DIR, Settings

CLIENTS = 8
REQUEST_TIMEOUT_S = 10  # the clients' patience: every request must get an answer within it
ACKS_BEFORE_OUTAGE = 40
ACKS_AFTER_RECOVERY = 40
OUTAGE_503S = 8  # failed submissions to see before the database comes back
MARK = "outage-test"


@dataclass
class Platform:
    """The throwaway cluster and the app server in front of it."""

    settings: Settings
    cluster: cluster.LocalCluster
    url: str
    app: subprocess.Popen


def _setup_env(settings: Settings) -> dict[str, str]:
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
        # Eight clients from one address are a load test, not abuse: no rate limits.
        "HUEGIS_RATE_LIMIT_INTAKE": "0",
        "HUEGIS_RATE_LIMIT_DEVICE": "0",
    }


def _huegis(env: dict[str, str], *args: str) -> None:
    cli = Path(sys.executable).with_name("huegis")
    done = subprocess.run([str(cli), *args], env=env, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"huegis {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    """A cluster of our own with the admin units and report catalogue, and an app on it."""
    # In /tmp rather than pytest's private tmp dir: as root the cluster runs as `postgres`,
    # which must be able to reach its data directory.
    data_dir = Path(tempfile.mkdtemp(prefix="huegis-outage-"))
    data_dir.chmod(0o755)
    settings = Settings(data_dir=data_dir, db_host="127.0.0.1", db_port=free_port(), db_name="huegis")
    local = cluster.LocalCluster(settings)
    env = _setup_env(settings)
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name in ("DATABASE_URL", "HUEGIS_DATABASE_URL", "PGHOST"):
                mp.delenv(name, raising=False)  # this test's settings name the local cluster
            _huegis(env, "db", "start")
            _huegis(env, "db", "migrate")
            _huegis(env, "load", "--only", "admin_units")  # loads the report catalogue too
            _huegis(env, "ogc", "openapi")
            with app_server(env, data_dir / "uvicorn.log") as app:
                yield Platform(settings, local, app.url, app.process)
    finally:
        local.stop("immediate")  # throwaway: nothing to flush
        shutil.rmtree(data_dir, ignore_errors=True)


# --- the load ----------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw, shared between their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    submissions: int = 0
    acknowledged: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (code, marker)
    replays: int = 0
    unavailable: int = 0
    retries: int = 0
    unavailable_messages: set[str] = field(default_factory=set)
    no_answer: list[str] = field(default_factory=list)  # client timeouts and dropped connections
    unexpected: list[str] = field(default_factory=list)
    recovered_at: float | None = None
    failed_after_recovery: int = 0

    def count(self, **changes: int) -> None:
        with self.lock:
            for name, step in changes.items():
                setattr(self, name, getattr(self, name) + step)


class Citizen(threading.Thread):
    """A client app filing reports, retrying each with the same Idempotency-Key until acknowledged."""

    def __init__(self, url: str, places: list[tuple[float, float]], categories: list[str], tally: Tally,
                 stop: threading.Event) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.url, self.places, self.categories, self.tally, self.stop = url, places, categories, tally, stop
        self.random = random.Random()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=REQUEST_TIMEOUT_S) as http:
            while not self.stop.is_set():
                self.file_one(http)

    def file_one(self, http: httpx.Client) -> None:
        marker = uuid.uuid4().hex
        key = str(uuid.uuid4())
        lon, lat = self.random.choice(self.places)
        body = {
            "category": self.random.choice(self.categories),
            "description": f"{MARK} {marker}: filed while the database may be down",
            "lon": lon,
            "lat": lat,
            "channel": "app",
        }
        self.tally.count(submissions=1)
        started = time.monotonic()
        give_up = started + 120
        first = True
        while time.monotonic() < give_up:
            if not first:
                self.tally.count(retries=1)
                time.sleep(0.3)  # a real app waits (Retry-After) before trying again
            first = False
            try:
                response = http.post("/api/reports", json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError as exc:
                with self.tally.lock:
                    self.tally.no_answer.append(f"{type(exc).__name__}: {exc}")
                continue
            if response.status_code in (200, 201):
                with self.tally.lock:
                    self.tally.acknowledged[key] = (response.json()["code"], marker)
                    self.tally.replays += response.status_code == 200
                return
            if response.status_code == 503:
                with self.tally.lock:
                    self.tally.unavailable += 1
                    self.tally.unavailable_messages.add(response.json()["detail"])
                    if self.tally.recovered_at is not None and started > self.tally.recovered_at:
                        self.tally.failed_after_recovery += 1
                continue
            with self.tally.lock:
                self.tally.unexpected.append(f"{response.status_code}: {response.text[:300]}")
            return
        with self.tally.lock:
            self.tally.unexpected.append(f"never acknowledged: {key}")


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def ward_points(conn: psycopg.Connection) -> list[tuple[float, float]]:
    rows = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_units "
        "WHERE level <> 'city') AS points"
    ).fetchall()
    return [(lon, lat) for lon, lat in rows]


def test_outage_under_load_loses_nothing_and_recovers(platform: Platform) -> None:
    settings, local = platform.settings, platform.cluster
    http = httpx.Client(base_url=platform.url, timeout=REQUEST_TIMEOUT_S)
    assert http.get("/healthz").status_code == 200
    categories = [c["code"] for c in http.get("/api/report-categories").json()]
    with psycopg.connect(settings.conninfo()) as conn:
        places = ward_points(conn)
    assert categories and len(places) >= 10

    tally, stop = Tally(), threading.Event()
    citizens = [Citizen(platform.url, places, categories, tally, stop) for _ in range(CLIENTS)]
    for citizen in citizens:
        citizen.start()
    try:
        assert wait_until(lambda: len(tally.acknowledged) >= ACKS_BEFORE_OUTAGE), "no load before the outage"

        local.stop("immediate")
        try:
            # A response (not a client timeout) within the clients' request timeout.
            down = http.get("/healthz")
            assert down.status_code == 503
            assert down.json()["status"] == "unavailable"
            layers = http.get("/api/layers")
            assert layers.status_code == 503
            assert "database is unavailable" in layers.json()["detail"]
            assert layers.headers["Retry-After"]
            ogc = http.get("/ogc/collections/admin_units/items", params={"f": "json", "limit": 1})
            # pygeoapi has its own engine; its failure is reported as ours.
            assert ogc.status_code == 503
            assert "database is unavailable" in ogc.json()["detail"]
            assert wait_until(lambda: tally.unavailable >= OUTAGE_503S, seconds=30)
        finally:
            local.start()
        assert wait_until(lambda: http.get("/healthz").status_code == 200), "the app did not recover"
        tally.recovered_at = time.monotonic()
        acked_at_recovery = len(tally.acknowledged)
        assert wait_until(lambda: len(tally.acknowledged) >= acked_at_recovery + ACKS_AFTER_RECOVERY)
    finally:
        stop.set()
        for citizen in citizens:
            citizen.join(timeout=150)
    assert platform.app.poll() is None, "the app must recover without a restart"

    # Every acknowledged report is stored exactly once, with its marker; nothing is duplicated.
    with psycopg.connect(settings.conninfo()) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, code, substring(description FROM %s) AS marker FROM citizen_reports "
            "WHERE description LIKE %s",
            (f"{MARK} ([0-9a-f]{{32}})", f"{MARK} %"),
        ).fetchall()
    stored = {key: (code, marker) for key, code, marker in rows}
    markers = [marker for _, _, marker in rows]
    lost = [key for key, ack in tally.acknowledged.items() if stored.get(key) != ack]
    duplicates = len(markers) - len(set(markers))
    codes = [code for code, _ in tally.acknowledged.values()]
    unreadable = [code for code in codes if http.get(f"/api/reports/{code}").status_code != 200]
    ogc = http.get("/ogc/collections/admin_units/items", params={"f": "json", "limit": 1})
    http.close()

    print(
        f"\noutage test: {tally.submissions} submissions by {CLIENTS} clients, {len(tally.acknowledged)} acknowledged "
        f"({tally.replays} as idempotent replays), {tally.unavailable} answered 503, {tally.retries} retries, "
        f"{len(tally.no_answer)} without an answer, {tally.failed_after_recovery} failed after recovery, "
        f"{len(rows)} stored; lost={len(lost)} duplicates={duplicates} unreadable={len(unreadable)}"
    )
    assert tally.no_answer == [], "every request must be answered within the client's timeout"
    assert tally.unexpected == []
    assert tally.unavailable >= OUTAGE_503S
    assert all("database is unavailable" in message for message in tally.unavailable_messages)
    assert len(tally.acknowledged) == tally.submissions  # each client retried until acknowledged
    assert lost == []
    assert duplicates == 0
    assert len(rows) == len(tally.acknowledged)
    assert unreadable == []
    assert tally.failed_after_recovery == 0
    assert ogc.status_code == 200
