"""Deadlines in working hours (Huế public offices: Mon-Fri 07:00-11:30 and 13:30-17:00, ICT).

Public holidays are not modelled yet: a deadline that spans Tết is early by the holiday's length.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from geo.times import TZ

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


def working_days(start: datetime, end: datetime) -> int:
    """Working days (Mon-Fri, Huế time) that begin before ``end``, from the day of ``start`` on."""
    day, total = start.astimezone(TZ).date(), 0
    while datetime.combine(day, time(0), TZ) < end:
        total += bool(_periods(day))
        day += timedelta(days=1)
    return total
