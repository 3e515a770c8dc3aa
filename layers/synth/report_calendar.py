"""Working-hour arithmetic on whole arrays: the vector twin of :mod:`geo.reports.sla`.

``sla.add_working_hours`` walks day by day in Python (about 14 µs a call); a history of 183,000
reports needs it several times per report. :class:`WorkCalendar` turns every instant into the
number of working seconds elapsed since a fixed day, so adding working hours is an addition and a
``searchsorted``. The office hours are read from ``sla.WORK_PERIODS`` so both stay in step; a test
checks the two agree instant for instant.

Instants are int64/float64 seconds since the Unix epoch (UTC). Asia/Ho_Chi_Minh has kept UTC+7
without daylight saving since 1975, so local days are plain 86,400-second blocks.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from numpy.typing import NDArray

from geo.reports.sla import WORK_PERIODS

ICT_OFFSET_S = 7 * 3600
DAY_S = 86_400
EPOCH_DAY = date(1970, 1, 1)
# (start, end) seconds after local midnight of each office period, from sla.WORK_PERIODS.
PERIODS_S = tuple((a.hour * 3600 + a.minute * 60, b.hour * 3600 + b.minute * 60) for a, b in WORK_PERIODS)
WORK_DAY_S = sum(b - a for a, b in PERIODS_S)

Seconds = NDArray[np.float64]


def local_day(t: NDArray) -> NDArray[np.int64]:
    """Local (ICT) day number since 1970-01-01 of epoch instants."""
    return np.floor_divide(np.asarray(t, dtype=np.float64) + ICT_OFFSET_S, DAY_S).astype(np.int64)


def weekday(day: NDArray[np.int64]) -> NDArray[np.int64]:
    """Monday = 0 … Sunday = 6 of local day numbers (1970-01-01 was a Thursday)."""
    return np.asarray((day + 3) % 7, dtype=np.int64)


def day_start(d: date) -> int:
    """Epoch seconds of local (ICT) midnight starting ``d``."""
    return (d - EPOCH_DAY).days * DAY_S - ICT_OFFSET_S


class WorkCalendar:
    """Working seconds since ``first`` (local midnight) for instants between ``first`` and ``last``.

    Parameters
    ----------
    first, last : date
        The first and last local days the calendar covers; instants outside raise ``ValueError``.
    """

    def __init__(self, first: date, last: date) -> None:
        if last < first:
            raise ValueError(f"calendar ends ({last}) before it starts ({first})")
        self.first_day = (first - EPOCH_DAY).days
        days = np.arange(self.first_day, (last - EPOCH_DAY).days + 1, dtype=np.int64)
        self.days = days
        per_day = np.where(weekday(days) < 5, WORK_DAY_S, 0).astype(np.float64)
        self.cum_end = np.cumsum(per_day)  # working seconds up to the end of each day
        self.cum_start = self.cum_end - per_day  # … up to its start

    def _index(self, day: NDArray[np.int64]) -> NDArray[np.int64]:
        i = day - self.first_day
        if len(i) and (i.min() < 0 or i.max() >= len(self.days)):
            raise ValueError("instant outside the working calendar; widen its first/last day")
        return i

    def work(self, t: NDArray) -> Seconds:
        """Working seconds from the calendar's first midnight to each epoch instant ``t``."""
        t = np.asarray(t, dtype=np.float64)
        day = local_day(t)
        i = self._index(day)
        tod = t + ICT_OFFSET_S - day * DAY_S
        within = np.zeros_like(tod)
        for a, b in PERIODS_S:
            within += np.clip(tod, a, b) - a
        within = np.where(weekday(day) < 5, within, 0.0)
        return np.asarray(self.cum_start[i] + within)

    def clock(self, w: NDArray) -> Seconds:
        """The earliest epoch instant at which ``w`` working seconds have elapsed (``w`` > 0)."""
        w = np.asarray(w, dtype=np.float64)
        i = np.searchsorted(self.cum_end, w, side="left")
        if len(i) and i.max() >= len(self.days):
            raise ValueError("working time beyond the calendar's last day; widen it")
        rest = w - self.cum_start[i]  # in (0, WORK_DAY_S] on the working day found
        tod = np.full_like(rest, np.nan)
        before = 0.0
        for a, b in PERIODS_S:
            length = b - a
            here = np.isnan(tod) & (rest <= before + length)
            tod[here] = a + rest[here] - before
            before += length
        return np.asarray(self.days[i] * DAY_S - ICT_OFFSET_S + tod)

    def add_hours(self, t: NDArray, hours: NDArray | float) -> Seconds:
        """``sla.add_working_hours`` for arrays: instants ``hours`` working hours after ``t``."""
        return self.clock(self.work(t) + np.asarray(hours, dtype=np.float64) * 3600.0)

    def hours_between(self, start: NDArray, end: NDArray) -> Seconds:
        """``sla.working_hours_between`` for arrays (0 where ``end`` is not after ``start``)."""
        return np.asarray(np.maximum(self.work(end) - self.work(start), 0.0) / 3600.0)
