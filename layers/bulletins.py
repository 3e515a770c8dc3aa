"""Past storm warnings: one expired CAP zone, with its bulletins, per storm that passed near Huế.

Huế has pushed about 2,450 disaster bulletins to its citizens, but they are not open data. The
storms are: ``storm_tracks`` (JTWC best tracks) says which passed within :data:`MAX_KM` of the
city, how strong and when. For each one this writes a warning zone over the wards within its
reach (in force from 36 hours before the closest approach to 24 hours after, so long expired)
and its message history: an ``Alert``, then an ``Update`` every 6 hours, as bulletins come while
a storm nears. Zones and texts are generated (``synthetic``); the storms, their timing, distance
and strength are real. A load replaces the previous one and is skipped when nothing changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

from geo.db import load_sql
from geo.disasters.zones import IDENTIFIER_PREFIX
from geo.errors import DatabaseUnavailable
from geo.settings import Settings

LOAD_ID = "disaster_bulletins"  # the row in layer_loads
SOURCE = "HueGIS: warning bulletins generated for the JTWC storms that passed near Huế (synthetic)"
ACTOR = "system:bulletins"
MAX_KM = 150.0
EVERY_H = 6


@dataclass(frozen=True)
class BulletinLoad:
    """What a load did (``loaded`` false: unchanged, skipped)."""

    zones: int
    messages: int
    loaded: bool


def bulletins_checksum(conn: psycopg.Connection) -> str:
    """Digest of this generator (code, SQL, parameters) and of the storm tracks it reads."""
    digest = hashlib.sha256(LOAD_ID.encode())
    digest.update(Path(__file__).read_bytes())
    for name in ("delete", "zones", "messages"):
        digest.update(load_sql(f"bulletins/{name}").encode())
    row = conn.execute("SELECT checksum FROM layer_loads WHERE layer_id = 'storm_tracks'").fetchone()
    digest.update((row[0] if row else "").encode())
    return digest.hexdigest()


def load_bulletins(settings: Settings, *, force: bool = False) -> BulletinLoad:
    """Write the past storm warnings in one transaction, unless already loaded unchanged."""
    try:
        conn = psycopg.connect(settings.conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    with conn:
        digest = bulletins_checksum(conn)
        previous = conn.execute("SELECT checksum, rows FROM layer_loads WHERE layer_id = %s", (LOAD_ID,)).fetchone()
        if previous and previous[0] == digest and not force:
            return BulletinLoad(zones=previous[1], messages=0, loaded=False)
        with conn.transaction():
            conn.execute(load_sql("bulletins/delete"), {"source": SOURCE})
            ids = [row[0] for row in conn.execute(load_sql("bulletins/zones"), {"max_km": MAX_KM, "source": SOURCE})]
            messages = conn.execute(
                load_sql("bulletins/messages"),
                {"ids": ids, "every_h": EVERY_H, "prefix": IDENTIFIER_PREFIX, "actor": ACTOR},
            ).rowcount
            conn.execute(
                "INSERT INTO layer_loads (layer_id, checksum, rows) VALUES (%s, %s, %s) "
                "ON CONFLICT (layer_id) DO UPDATE SET checksum = EXCLUDED.checksum, rows = EXCLUDED.rows, "
                "loaded_at = now()",
                (LOAD_ID, digest, len(ids)),
            )
    return BulletinLoad(zones=len(ids), messages=messages, loaded=True)
