"""Time in Huế (ICT, +07:00) and the one parser of the dates and times users type.

Query values, form fields and CLI options go through ``parse_instant``: a date is midnight in
Huế, a date-time without an offset is Huế time, and everything stays within [EARLIEST, LATEST]
so date arithmetic never overflows (a 500 instead of a 400).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from geo.errors import InvalidInput

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EARLIEST = datetime(1900, 1, 1, tzinfo=TZ)
LATEST = datetime(2200, 1, 1, tzinfo=TZ)
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_instant(name: str, value: datetime) -> datetime:
    """``value`` if it lies within [EARLIEST, LATEST]; InvalidInput naming ``name`` otherwise."""
    if not EARLIEST <= value <= LATEST:
        raise InvalidInput(f"{name} must be between {EARLIEST.date()} and {LATEST.date()}, got {value.isoformat()}")
    return value


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
        raise InvalidInput(
            f"{name} must be a date-time such as 2026-01-31T08:00:00+07:00 or a date such as 2026-01-31, got {text!r}"
        ) from None
    return check_instant(name, parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ))


def month_period(month: str) -> tuple[datetime, datetime]:
    """'2025-10' → [2025-10-01, 2025-11-01) in ICT; InvalidInput naming the parameter otherwise."""
    try:
        if len(month) != 7:
            raise ValueError(month)
        start = check_instant("month", datetime.strptime(month, "%Y-%m").replace(tzinfo=TZ))
    except ValueError:
        raise InvalidInput(f"month must be YYYY-MM, got {month!r}") from None
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end
