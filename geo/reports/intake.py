"""Intake: validate a citizen's report, route it to the responsible unit, store it once.

Routing is two-level: the ward/commune is the one whose polygon covers the point; the
responsible unit is that ward/commune, or the city department the category names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.db import DictCursor, load_sql
from geo.errors import Conflict, InvalidInput, InvalidInputs, NotFound
from geo.models.reports import CHANNELS
from geo.reports.photos import clean_photo, remove_photos, store_photos
from geo.reports.sla import add_working_hours
from geo.settings import Settings

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread
CODE_LENGTH = 8
DESCRIPTION_RANGE = (10, 4000)
# A Vietnamese number: +84, 0084 or 0, then 9-10 digits (mobile 9, landline 10), spaces, dots or
# hyphens between groups. A hotline call's number is what the exchange showed (geo/reports/hotline.py).
PHONE = re.compile(r"(?:\+84|0084|0)(?:[ .-]?[0-9]){9,10}")
# Strict and simple (no e-mail library in the environment): ASCII local part without leading,
# trailing or doubled dots; a domain of letter/digit/hyphen labels ending in a 2+ letter top level.
EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)


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


def description_problem(text: str) -> str | None:
    """What is wrong with a description's length (spaces around it do not count), if anything."""
    low, high = DESCRIPTION_RANGE
    length = len(text.strip())
    return None if low <= length <= high else f"description must be {low}-{high} characters, got {length}"


def phone_problem(text: str) -> str | None:
    """What is wrong with a phone number (blank is no number), if anything."""
    phone = text.strip()
    if not phone or PHONE.fullmatch(phone):
        return None
    return f"phone must be a Vietnamese number: +84 or 0, then 9-10 digits (spaces allowed), got {phone!r}"


def email_problem(text: str) -> str | None:
    """What is wrong with an e-mail address (blank is no address), if anything."""
    email = text.strip()
    if not email or (len(email) <= 254 and EMAIL.fullmatch(email)):
        return None
    return f"email is not an e-mail address such as ten@example.vn: {email!r}"


def contact_problems(reporter: ReporterIn, *, phone_field: str, email_field: str) -> list[InvalidInput]:
    """A reporter's phone number and e-mail address checked, each problem naming its field."""
    problems = []
    if reporter.phone is not None and (problem := phone_problem(reporter.phone)):
        problems.append(InvalidInput(problem, code="phone_invalid", field=phone_field))
    if reporter.email is not None and (problem := email_problem(reporter.email)):
        problems.append(InvalidInput(problem, code="email_invalid", field=email_field))
    return problems


def validate(report: ReportIn, *, settings: Settings) -> list[bytes]:
    """Check everything that needs no database; return the cleaned photos, or raise every problem at once."""
    problems: list[InvalidInput] = []
    if problem := description_problem(report.description):
        problems.append(InvalidInput(problem, code="description_length", field="description"))
    if report.channel not in CHANNELS:
        problems.append(InvalidInput(f"unknown channel {report.channel!r}; one of {', '.join(CHANNELS)}",
                                     code="channel", field="channel"))  # fmt: skip
    if not (-180 <= report.lon <= 180 and -90 <= report.lat <= 90):
        problems.append(InvalidInput(f"lon={report.lon}, lat={report.lat} is not a WGS 84 position",
                                     code="outside_city", field="lon"))  # fmt: skip
    for name, value, limit in (("reporter_name", report.reporter.full_name, 200),
                               ("reporter_phone", report.reporter.phone, 32),
                               ("reporter_email", report.reporter.email, 320),
                               ("device_id", report.reporter.device_id, 200)):  # fmt: skip
        if value is not None and len(value) > limit:
            problems.append(InvalidInput(f"{name} must be at most {limit} characters, got {len(value)}",
                                         code="contact_length", field=name))  # fmt: skip
    if report.channel != "hotline":  # a call's number is checked by the hotline (any number that called)
        problems += contact_problems(report.reporter, phone_field="reporter_phone", email_field="reporter_email")
    photos, photo_problems = clean_photos(report.photos, settings=settings)
    problems += photo_problems
    if len(problems) > 1:
        raise InvalidInputs(problems)
    if problems:
        raise problems[0]
    return photos


def clean_photos(
    uploads: tuple[tuple[str, bytes], ...], *, settings: Settings
) -> tuple[list[bytes], list[InvalidInput]]:
    """The photos cleaned, and every problem with them (too many; each one's type, size, pixels)."""
    problems = []
    if len(uploads) > settings.photo_max_count:
        problems.append(InvalidInput(f"at most {settings.photo_max_count} photos per report, got {len(uploads)}",
                                     code="too_many_photos", field="photos"))  # fmt: skip
    photos = []
    for name, data in uploads[: settings.photo_max_count]:
        try:
            photos.append(clean_photo(data, name=name, max_bytes=settings.photo_max_bytes,
                                      max_side=settings.photo_max_side_px))  # fmt: skip
        except InvalidInput as exc:
            exc.field = "photos"
            problems.append(exc)
    return photos, problems


async def _category(cur: DictCursor, code: str) -> dict:
    await cur.execute(load_sql("reports/category"), {"code": code})
    row = await cur.fetchone()
    if row is None:
        raise await _unknown_category(cur, code)
    return row


async def _unknown_category(cur: DictCursor, code: str) -> InvalidInput:
    await cur.execute("SELECT string_agg(code, ', ' ORDER BY sort_order) AS codes FROM report_categories")
    known = await cur.fetchone()
    return InvalidInput(
        f"unknown category {code!r}; known categories: {known['codes'] if known else ''}", code="unknown_category"
    )


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
    # The public fields of a new report (code, status, category, priority, admin_unit,
    # responsible_level, department, received_at, due_at); None for a replay.
    report: dict | None = None


# Category code -> SLA hours, per process: deadlines are computed before the one intake statement,
# which refuses to write if the category's SLA is no longer the one used (then this is re-read).
_sla_hours: dict[str, int] = {}


async def _read_sla_hours(conn: AsyncConnection) -> None:
    async with conn.cursor() as cur:
        await cur.execute("SELECT code, sla_hours FROM report_categories")
        rows: list[tuple[str, int]] = await cur.fetchall()
    _sla_hours.clear()
    _sla_hours.update(rows)


async def _insert(conn: AsyncConnection, params: dict, *, now: datetime) -> dict:
    """Run the intake statement with a deadline from the category's SLA (re-read once if it changed)."""
    category = params["category"]
    for attempt in (1, 2):
        if category not in _sla_hours or attempt == 2:
            await _read_sla_hours(conn)
        sla = _sla_hours.get(category)
        async with conn.cursor(row_factory=dict_row) as cur:
            if sla is None:
                raise await _unknown_category(cur, category)
            await cur.execute(load_sql("reports/intake"),
                              {**params, "sla_hours": sla, "due_at": add_working_hours(now, sla)})  # fmt: skip
            row = await cur.fetchone()
            assert row is not None  # the statement always returns its one row
            if row["category_sla_hours"] is None:
                raise await _unknown_category(cur, category)
        if row["category_sla_hours"] == sla:
            return row
    raise Conflict(f"the SLA of category {category!r} is changing; retry")


async def create_report(
    conn: AsyncConnection,
    *,
    report: ReportIn,
    settings: Settings,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    synthetic: bool = False,
) -> IntakeResult:
    """Validate, route and store a report with its first event: one statement, nothing on error.

    Intake is one round trip (``geo/sql/reports/intake.sql``), durable when it returns; a retry
    with the same Idempotency-Key writes nothing and returns the first report. ``synthetic`` marks a
    report the simulator files (layers/simulator.py), never a citizen's.
    """
    photos = validate(report, settings=settings)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise InvalidInput("Idempotency-Key must be 1-128 characters")
    now = now or datetime.now().astimezone()
    code = new_code()
    photo_dir = settings.photo_dir / code
    try:
        params = {
            "code": code,
            "category": report.category,
            "description": report.description.strip(),
            "channel": report.channel,
            "received_at": now,
            "photos": store_photos(photos, directory=photo_dir) if photos else [],
            "idempotency_key": idempotency_key,
            "synthetic": synthetic,
            "lon": report.lon,
            "lat": report.lat,
            **vars(report.reporter),
        }
        row = await _insert(conn, params, now=now)
        if row["id"] is None:
            remove_photos(photo_dir)
            if row["unit_code"] is None:
                raise InvalidInput(f"lon={report.lon}, lat={report.lat} is outside Thành phố Huế", code="outside_city")
            return await _replay(conn, report=report, key=idempotency_key or "", now=now)
    except BaseException:
        remove_photos(photo_dir)
        raise
    duplicates = [{**d, "received_at": datetime.fromisoformat(d["received_at"])} for d in row.pop("duplicates")]
    public = {k: row[k] for k in ("code", "status", "category", "priority", "admin_unit", "responsible_level",
                                  "department", "received_at", "due_at")}  # fmt: skip
    return IntakeResult(code, created=True, duplicates=duplicates, report=public)


async def _replay(conn: AsyncConnection, *, report: ReportIn, key: str, now: datetime) -> IntakeResult:
    """A retried submission: the first report filed with the key, and its likely duplicates."""
    async with conn.cursor(row_factory=dict_row) as cur:
        first = await _existing(cur, key, report)
        category = await _category(cur, report.category)
        duplicates = await find_duplicates(cur, report=report, category=category, code=first, now=now)
    return IntakeResult(first, created=False, duplicates=duplicates)


def photo_path(settings: Settings, relative: str) -> Path:
    """Absolute path of a stored photo; NotFound for anything outside the photo directory."""
    root = settings.photo_dir.resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(f"no photo {relative!r}")
    return path
