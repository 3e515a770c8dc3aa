"""Outages: PostGIS crashes under a load of report submissions; no acknowledged report is lost.

Runs against its own throwaway cluster and app server (never the shared dev cluster, see
``throwaway.py``), once with one app process and once with two workers and a streaming replica.
Eight clients file reports while the primary is crash-stopped (``pg_ctl stop -m immediate``) and
restarted; the same app must answer 503 to writes meanwhile and recover by itself, and every
report it acknowledged must be in the database exactly once. With a replica, public reads go on
through the outage.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest
from throwaway import Platform, throwaway_platform, wait_until

CLIENTS = 8
REQUEST_TIMEOUT_S = 10  # the clients' patience: every request must get an answer within it
ACKS_BEFORE_OUTAGE = 40
ACKS_AFTER_RECOVERY = 40
OUTAGE_503S = 8  # failed submissions to see before the database comes back
MARK = "outage-test"


@pytest.fixture(scope="module", params=[(1, 0), (2, 1)], ids=["one process", "two workers and a replica"])
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    """A cluster of our own with the admin units and report catalogue, and an app on it
    (one process; or two workers and a streaming replica)."""
    workers, replicas = request.param
    with throwaway_platform("huegis-outage-", workers=workers, replicas=replicas) as platform:
        yield platform


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
            if platform.settings.local_replicas:  # public reads go on from the replica
                assert ogc.status_code == 200, ogc.text
                assert len(ogc.json()["features"]) == 1
            else:
                assert ogc.status_code == 503
                assert "database is unavailable" in ogc.json()["detail"]
            # pygeoapi has its own engine (on the primary); its failure is reported as ours.
            html = http.get("/ogc/collections/admin_units/items", params={"f": "html", "limit": 1})
            assert html.status_code == 503
            assert "database is unavailable" in html.json()["detail"]
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
