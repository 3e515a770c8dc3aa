"""Deadlines in working hours (Huế public offices: Mon-Fri 07:00-11:30 and 13:30-17:00, ICT).

Public holidays are not modelled yet: a deadline that spans Tết is early by the holiday's length.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from geo.errors import InvalidInput

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# The span of time queries may name: periods and windows are computed around it, and date
# arithmetic near year 1 or 9999 overflows (a 500 instead of a 400).
EARLIEST = datetime(1900, 1, 1, tzinfo=TZ)
LATEST = datetime(2200, 1, 1, tzinfo=TZ)
WORK_PERIODS = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
HOURS_PER_DAY = 8.0


def _periods(day: date) -> list[tuple[datetime, datetime]]:
    if day.weekday() >= 5:  # Saturday, Sunday
        return []
    return [(datetime.combine(day, a, TZ), datetime.combine(day, b, TZ)) for a, b in WORK_PERIODS]


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The instant ``hours`` working hours after ``start`` (aware datetime, returned in ICT)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if hours < 0:
        raise ValueError(f"hours must be >= 0, got {hours}")
    remaining = timedelta(hours=hours)
    current = start.astimezone(TZ)
    day = current.date()
    while True:
        for begin, end in _periods(day):
            if current >= end:
                continue
            begin = max(begin, current)
            available = end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            current = end
        day += timedelta(days=1)
        current = datetime.combine(day, time(0), TZ)


def working_hours_between(start: datetime, end: datetime) -> float:
    """Working hours elapsed from ``start`` to ``end`` (0 if end is not after start)."""
    if end <= start:
        return 0.0
    total = timedelta()
    day = start.astimezone(TZ).date()
    last = end.astimezone(TZ).date()
    while day <= last:
        for begin, finish in _periods(day):
            lo, hi = max(begin, start), min(finish, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def check_instant(name: str, value: datetime) -> datetime:
    """``value`` if it lies within [EARLIEST, LATEST]; InvalidInput naming ``name`` otherwise."""
    if not EARLIEST <= value <= LATEST:
        raise InvalidInput(f"{name} must be between {EARLIEST.date()} and {LATEST.date()}, got {value.isoformat()}")
    return value


DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_instant(name: str, text: str, *, upper: bool = False) -> datetime:
    """A query value: a date (midnight in Huế; with ``upper``, the end of that day) or a date-time.

    A date-time without an offset is Huế time; ``+07:00`` decoded from a URL as `` 07:00`` is
    accepted. InvalidInput naming ``name`` otherwise, or outside [EARLIEST, LATEST].
    """
    value = text.strip()
    try:
        if DATE_ONLY.fullmatch(value):
            day = date.fromisoformat(value) + timedelta(days=1 if upper else 0)
            return check_instant(name, datetime.combine(day, time(0), TZ))
        parsed = datetime.fromisoformat(re.sub(r" (\d\d:?\d\d)$", r"+\1", value))
    except (ValueError, OverflowError):  # OverflowError: the day after 9999-12-31
        raise InvalidInput(f"{name} must be a date (2026-01-31) or a date-time, got {text!r}") from None
    return check_instant(name, parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ))
