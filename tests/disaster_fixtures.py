"""Shared helpers of the disaster and feed tests: an emergency officer's headers, zone bodies, clean-up (not a test
module)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import auth_helpers
import httpx
import psycopg
import pytest

from geo.settings import Settings

HUE = ZoneInfo("Asia/Ho_Chi_Minh")

# 200 x 220 m square in Phường Phú Bài, away from every seeded facility (checked by the tests).
SQUARE = [[107.650, 16.350], [107.652, 16.350], [107.652, 16.352], [107.650, 16.352], [107.650, 16.350]]
# Around the Imperial City (Đại Nội).
CENTRE = [[107.570, 16.460], [107.590, 16.460], [107.590, 16.480], [107.570, 16.480], [107.570, 16.460]]


def now() -> datetime:
    return datetime.now(HUE).replace(microsecond=0)


def zone_body(ring: list[list[float]] = CENTRE, **overrides: Any) -> dict[str, Any]:
    """A valid zone, active for the next six hours."""
    start = now() - timedelta(hours=1)
    body: dict[str, Any] = {
        "event": "Lũ lụt",
        "hazard": "flood",
        "category": "Met",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "status": "Actual",
        "headline_vi": "Cảnh báo lũ trên sông Hương",
        "headline_en": "Flood warning on the Perfume River",
        "instruction_vi": "Di chuyển lên nơi cao.",
        "instruction_en": "Move to higher ground.",
        "onset": start.isoformat(),
        "expires": (start + timedelta(hours=7)).isoformat(),
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    body.update(overrides)
    return body


def staff_headers(settings: Settings) -> dict[str, str]:
    """What the duty emergency officer sends: a bearer token of their account."""
    return auth_helpers.staff_headers(settings, "emergency_officer", username="test-duty-officer")


class ZoneMaker:
    """Creates zones through the staff API and deletes them (and their messages) afterwards."""

    def __init__(self, client: httpx.Client, headers: dict[str, str], db: psycopg.Connection):
        self.client, self.headers, self.db = client, headers, db
        self.ids: list[int] = []

    def create(self, **overrides: Any) -> dict[str, Any]:
        response = self.client.post("/api/disasters", json=zone_body(**overrides), headers=self.headers)
        assert response.status_code == 201, response.text
        zone = response.json()
        self.ids.append(zone["id"])
        return zone

    def cleanup(self) -> None:
        if self.ids:
            self.db.execute("DELETE FROM disaster_zones WHERE id = ANY(%s)", (self.ids,))


def zone_maker(client: httpx.Client, headers: dict[str, str], db: psycopg.Connection) -> Iterator[ZoneMaker]:
    """The body of each test module's ``zones`` fixture."""
    maker = ZoneMaker(client, headers, db)
    yield maker
    maker.cleanup()


def zone_counts(db: psycopg.Connection) -> tuple[int, int]:
    row = db.execute(
        "SELECT (SELECT count(*) FROM disaster_zones), (SELECT count(*) FROM disaster_messages)"
    ).fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.fixture
def staff(loaded: Settings) -> dict[str, str]:
    return staff_headers(loaded)


@pytest.fixture
def zones(client: httpx.Client, staff: dict[str, str], db: psycopg.Connection) -> Iterator[ZoneMaker]:
    """Zones created through the staff API, deleted after the test."""
    yield from zone_maker(client, staff, db)
