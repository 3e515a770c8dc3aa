"""Intake: validate a citizen's report, route it to the responsible unit, store it once.

Routing is two-level: the ward/commune is the one whose polygon covers the point; the
responsible unit is that ward/commune, or the city department the category names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geo.db import DictCursor, load_sql
from geo.errors import Conflict, InvalidInput, NotFound
from geo.reports.photos import clean_photo, remove_photos, store_photos
from geo.reports.sla import add_working_hours
from geo.settings import Settings

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread
CODE_LENGTH = 8
DESCRIPTION_RANGE = (10, 4000)
CHANNELS = ("app", "web", "hotline", "open311")


@dataclass(frozen=True)
class ReporterIn:
    """Personal data a citizen may give (stored apart from the report)."""

    full_name: str | None = None
    phone: str | None = None
    email: str | None = None
    device_id: str | None = None

    def any(self) -> bool:
        return any((self.full_name, self.phone, self.email, self.device_id))


@dataclass(frozen=True)
class ReportIn:
    """A report as submitted, before validation."""

    category: str
    description: str
    lon: float
    lat: float
    channel: str = "web"
    reporter: ReporterIn = field(default_factory=ReporterIn)
    photos: tuple[tuple[str, bytes], ...] = ()  # (file name, bytes)


def new_code() -> str:
    """A short public tracking code such as ``HUE-7K3QX9PA``."""
    return "HUE-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def follow_token(code: str, secret: str) -> str:
    """The citizen's secret for rating a report: derived from its code, so a retry gets it again."""
    digest = hmac.new(secret.encode(), code.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest)[:20].decode().lower()


def check_follow_token(code: str, token: str, secret: str) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, i.e. a 500).
    return hmac.compare_digest(follow_token(code, secret).encode(), token.strip().lower().encode())


def validate(report: ReportIn, *, settings: Settings) -> list[bytes]:
    """Check everything that needs no database; return the cleaned photos."""
    low, high = DESCRIPTION_RANGE
    length = len(report.description.strip())
    if not low <= length <= high:
        raise InvalidInput(f"description must be {low}-{high} characters, got {length}", code="description_length")
    if report.channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {report.channel!r}; one of {', '.join(CHANNELS)}", code="channel")
    if not (-180 <= report.lon <= 180 and -90 <= report.lat <= 90):
        raise InvalidInput(f"lon={report.lon}, lat={report.lat} is not a WGS 84 position", code="outside_city")
    for name, value, limit in (("reporter_name", report.reporter.full_name, 200),
                               ("reporter_phone", report.reporter.phone, 32),
                               ("reporter_email", report.reporter.email, 320),
                               ("device_id", report.reporter.device_id, 200)):  # fmt: skip
        if value is not None and len(value) > limit:
            raise InvalidInput(f"{name} must be at most {limit} characters, got {len(value)}", code="contact_length")
    if len(report.photos) > settings.photo_max_count:
        raise InvalidInput(
            f"at most {settings.photo_max_count} photos per report, got {len(report.photos)}", code="too_many_photos"
        )
    return [
        clean_photo(data, name=name, max_bytes=settings.photo_max_bytes, max_side=settings.photo_max_side_px)
        for name, data in report.photos
    ]


async def _category(cur: DictCursor, code: str) -> dict:
    await cur.execute(load_sql("reports/category"), {"code": code})
    row = await cur.fetchone()
    if row is None:
        await cur.execute("SELECT string_agg(code, ', ' ORDER BY sort_order) AS codes FROM report_categories")
        known = await cur.fetchone()
        raise InvalidInput(
            f"unknown category {code!r}; known categories: {known['codes'] if known else ''}", code="unknown_category"
        )
    return row


async def _route(cur: DictCursor, report: ReportIn, category: dict) -> dict:
    """Ward/commune where it happened and who must act."""
    await cur.execute(load_sql("admin/unit_at_point"), {"lon": report.lon, "lat": report.lat})
    unit = await cur.fetchone()
    if unit is None:
        raise InvalidInput(f"lon={report.lon}, lat={report.lat} is outside Thành phố Huế", code="outside_city")
    city_level = category["level"] == "city"
    return {
        "admin_unit_code": unit["code"],
        "admin_unit_name": unit["name"],
        "responsible_level": "city" if city_level else "ward",
        "department": category["department"] if city_level else None,
    }


async def _existing(cur: DictCursor, key: str, report: ReportIn) -> str:
    """The code of the report first filed with ``key``; Conflict if that one says something else."""
    await cur.execute(load_sql("reports/by_idempotency_key"), {"key": key})
    first = await cur.fetchone()
    if first is None:  # only possible if it was deleted between the two statements
        raise Conflict(f"Idempotency-Key {key!r} is in use by a report being written; retry")
    same = (
        first["category"] == report.category
        and first["description"] == report.description.strip()
        and abs(first["lon"] - report.lon) < 1e-7
        and abs(first["lat"] - report.lat) < 1e-7
    )
    if not same:
        raise Conflict(f"Idempotency-Key {key!r} was already used for a different report ({first['code']})")
    return first["code"]


async def find_duplicates(cur: DictCursor, *, report: ReportIn, category: dict, code: str,
                          now: datetime) -> list[dict]:  # fmt: skip
    """Open reports that are probably the same problem (same category, close in space and time)."""
    await cur.execute(
        load_sql("reports/duplicates"),
        {
            "lon": report.lon,
            "lat": report.lat,
            "category": report.category,
            "exclude_code": code,
            "since": now - timedelta(days=category["duplicate_window_days"]),
            "radius_m": category["duplicate_radius_m"],
        },
    )
    return await cur.fetchall()


@dataclass(frozen=True)
class IntakeResult:
    code: str
    created: bool
    duplicates: list[dict]


async def create_report(
    conn: AsyncConnection,
    *,
    report: ReportIn,
    settings: Settings,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    synthetic: bool = False,
) -> IntakeResult:
    """Validate, route and store a report with its first event; one transaction, nothing on error.

    ``synthetic`` marks a report the simulator files (layers/simulator.py), never a citizen's.
    """
    photos = validate(report, settings=settings)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise InvalidInput("Idempotency-Key must be 1-128 characters")
    now = now or datetime.now().astimezone()
    code = new_code()
    photo_dir = settings.photo_dir / code
    try:
        async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            category = await _category(cur, report.category)
            route = await _route(cur, report, category)
            stored = store_photos(photos, directory=photo_dir) if photos else []
            params = {
                "code": code,
                "category": report.category,
                "description": report.description.strip(),
                "channel": report.channel,
                "received_at": now,
                "due_at": add_working_hours(now, category["sla_hours"]),
                "photos": stored,
                "idempotency_key": idempotency_key,
                "synthetic": synthetic,
                "lon": report.lon,
                "lat": report.lat,
                **route,
            }
            await cur.execute(load_sql("reports/insert"), params)
            row = await cur.fetchone()
            if row is None:  # the key was used before: return that report, write nothing
                remove_photos(photo_dir)
                first = await _existing(cur, idempotency_key or "", report)
                duplicates = await find_duplicates(cur, report=report, category=category, code=first, now=now)
                return IntakeResult(first, created=False, duplicates=duplicates)
            if report.reporter.any():
                reporter = {"report_id": row["id"], **vars(report.reporter)}
                await cur.execute(load_sql("reports/insert_reporter"), reporter)
            routed_to = route["department"] or route["admin_unit_code"]
            await cur.execute(
                load_sql("reports/insert_event"),
                {
                    "report_id": row["id"],
                    "at": now,
                    "actor": f"citizen:{report.channel}",
                    "action": "receive",
                    "from_status": None,
                    "to_status": "received",
                    "note": f"Routed to {route['admin_unit_name']}"
                    + (f" / {route['department']}" if route["department"] else ""),
                    "details": Jsonb({"routed_to": routed_to, **route}),
                },
            )
            duplicates = await find_duplicates(cur, report=report, category=category, code=code, now=now)
    except BaseException:
        remove_photos(photo_dir)
        raise
    return IntakeResult(code, created=True, duplicates=duplicates)


def photo_path(settings: Settings, relative: str) -> Path:
    """Absolute path of a stored photo; NotFound for anything outside the photo directory."""
    root = settings.photo_dir.resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(f"no photo {relative!r}")
    return path
