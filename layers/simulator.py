"""The living city: new citizen reports and staff work after the generated history ends.

While the app serves in development (``HUEGIS_SIMULATE``; off in production and in tests), the
simulator first catches up from where it stopped (``simulation_clock``; at most
``simulate_catch_up_days``) and then keeps Huế going in real time, window by window:

* **Citizens file reports** through the intake service (routing, deadlines, duplicates, tiles and
  counts all react as for a real report) at Huế's rhythm: as many per day as in the same four
  weeks a year before, shaped by the history's weekday and hour-of-day profiles; each one copies
  the category, channel and text of a generated report of that season and its place, moved a few
  metres. So the ward and category mix, the hot spots and the October floods carry on. A hotline
  copy is filed by an operator through the hotline service (its call logged; called back when
  resolved); a copy of a duplicate repeats a recent open report of its category inside its radius,
  and the officer marks it as a duplicate when intake flagged it.
* **Staff and citizens act** through the workflow service: every open synthetic report follows
  the course of a finished generated report of its category (chosen by its code), replayed in
  working hours from its receipt: assign, start, request and decide an extension, resolve or
  reject; the citizen rates after the same delay (a low first rating reopens it) or an officer
  closes it. On-time shares, extensions and satisfaction therefore stay those of the history.
  A step already overdue (the history's backlog: reports its generator never finished) waits for
  spare staff capacity, a quarter of what the history's staff did in the same weekday and hour of
  the season, so the first catch-up keeps the history's rhythm instead of working it off at once.

Everything it writes is ``synthetic``; actors are ``sim:…``; it never acts on a citizen's report.
Instants are aware datetimes in Huế time (ICT).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.analytics.hotspot_run import refresh_hotspots
from geo.analytics.kpis import refresh_kpi_months
from geo.audit import Actor
from geo.auth.policy import Principal
from geo.db import KEEPALIVES, load_sql
from geo.errors import HueGISError
from geo.reports import hotline, intake, workflow
from geo.reports.sla import add_working_hours, working_hours_between
from geo.settings import Settings
from geo.times import TZ
from layers.synth.report_texts import CALL_NOTE_FILED, CALL_NOTE_RESULT
from layers.synth.reports import HOTLINE_OPERATORS, HOURLY, WEEKDAY

log = logging.getLogger("huegis.simulator")

WINDOW = timedelta(hours=1)  # catch-up step: arrivals and workflow per simulated hour
SEASON = timedelta(days=14)  # arrivals copy the reports of ±14 days a year before
YEAR = timedelta(days=365)
OUTCOME_PAST = timedelta(days=730)  # courses replayed: finished reports of the last two years …
OUTCOMES_PER_CATEGORY = 300  # … this many per category at most
JITTER_M = 25.0  # a copied report moves up to this far from its model
METRES_PER_DEGREE = 111_320.0
CHANNELS = ("app", "web", "open311", "hotline")  # hotline reports come with the operator's call
CALL_SECONDS = {"in": 240.0, "out": 120.0}  # median call lengths of the history's hotline (lognormal)
DEFAULTS = {"assign": 2.0, "start": 6.0, "resolve": 24.0}  # working hours, for a course that lacks a step
OFFICER_CLOSE_WH = (24.0, 40.0)  # an officer closes an unrated resolved report this long after (the history's rule)
NOTES = {
    "resolve": "Đã xử lý xong.",
    "reject": "Không thuộc thẩm quyền xử lý.",
    "request_extension": "Cần thêm thời gian để xử lý.",
    "reject_extension": "Không đủ căn cứ gia hạn.",
}
HOTSPOT_MAX_AGE = timedelta(days=7)
KPI_EVERY = timedelta(minutes=15)
# What officers and heads do; a citizen's rating comes whenever it is due.
STAFF_ACTIONS = ("assign", "start", "request_extension", "approve_extension", "reject_extension", "resolve",
                 "reject", "close")  # fmt: skip
# Overdue steps (the backlog) get this share of what the history's staff did in the same weekday and hour,
# on top of the work on course: worked off over weeks, with no jump in the KPIs.
BACKLOG_SHARE = 0.25
WEEKDAY_SHARE = np.asarray(WEEKDAY) / np.mean(WEEKDAY)
HOUR_SHARE = np.asarray(HOURLY) / np.sum(HOURLY)


@dataclass(frozen=True)
class Extension:
    """An extension asked for (working hours after the cycle began) and how it was decided."""

    request_wh: float
    hours: int
    note: str
    approve: bool
    decide_wh: float
    decide_note: str | None


@dataclass
class Cycle:
    """One round of work on a report (a second one follows a reopening), in working hours from its start."""

    assign: float | None = None
    start: float | None = None
    resolve: float | None = None
    resolve_note: str | None = None
    reject: float | None = None
    reject_note: str | None = None
    extension: Extension | None = None
    rating: int | None = None
    rate_after: timedelta | None = None  # calendar time from resolution to the citizen's rating
    close_after: timedelta | None = None  # … or to an officer closing it unrated


@dataclass
class Course:
    """How one finished generated report went: its cycles."""

    cycles: list[Cycle] = field(default_factory=list)


@dataclass
class Step:
    """The next thing to do to a report, and when."""

    action: str
    at: datetime
    note: str | None = None
    hours: int | None = None
    rating: int | None = None
    duplicate_of: str | None = None


def course_of(received_at: datetime, events: Sequence[dict[str, Any]]) -> Course:
    """The course of a finished report from its events (receive, assign … rate/reopen/close)."""
    course = Course([Cycle()])
    base, resolved_at, pending = received_at, None, None
    for event in events:
        action, at = event["action"], _instant(event["at"])
        cycle = course.cycles[-1]
        wh = working_hours_between(base, at)
        details = event.get("details") or {}
        if action in ("assign", "start") and getattr(cycle, action) is None:
            setattr(cycle, action, wh)
        elif action == "resolve":
            cycle.resolve, cycle.resolve_note, resolved_at = wh, event.get("note"), at
        elif action == "reject":
            cycle.reject, cycle.reject_note = wh, event.get("note")
        elif action == "request_extension":
            pending = (wh, int(details.get("hours") or 8), event.get("note") or NOTES["request_extension"])
        elif action in ("approve_extension", "reject_extension") and pending:
            cycle.extension = Extension(*pending, action == "approve_extension", wh, event.get("note"))
            pending = None
        elif action in ("rate", "reopen") and resolved_at is not None:
            cycle.rating, cycle.rate_after = int(details.get("rating") or 3), at - resolved_at
            if action == "reopen":
                course.cycles.append(Cycle())
                base, resolved_at = at, None
        elif action == "close" and resolved_at is not None:
            cycle.close_after = at - resolved_at
    return course


def next_step(report: dict[str, Any], course: Course) -> Step | None:
    """What happens next to ``report`` (a row of simulation/open_reports.sql) following ``course``.

    A step comes when the course says (working hours from the report's receipt or reopening), but
    never sooner after the report's last event than the course's own step took: a report already
    slower than its course (the history's backlog) keeps its pace instead of catching up at once.
    """
    cycle = course.cycles[min(report["reopened_count"], len(course.cycles) - 1)]
    base = report["reopened_at"] if report["reopened_count"] and report["reopened_at"] else report["received_at"]
    last = report["last_event_at"]

    def at(hours: float | None, default: str, after: float | None = 0.0) -> datetime:
        wh = DEFAULTS[default] if hours is None else hours
        return max(add_working_hours(base, wh), add_working_hours(last, max(0.0, wh - (after or 0.0))))

    status, ext = report["status"], cycle.extension
    if status in ("received", "assigned") and cycle.reject is not None and cycle.resolve is None:
        return Step("reject", at(cycle.reject, "assign"), cycle.reject_note or NOTES["reject"])
    if status in ("received", "reopened"):
        return Step("assign", at(cycle.assign, "assign"))
    if status == "assigned":
        return Step("start", at(cycle.start, "start", cycle.assign))
    if status == "in_progress" and ext and report["extension_status"] is None:
        return Step("request_extension", at(ext.request_wh, "start", cycle.start), ext.note, hours=ext.hours)
    if status == "in_progress" and ext and report["extension_status"] == "requested":
        action = "approve_extension" if ext.approve else "reject_extension"
        return Step(action, at(ext.decide_wh, "start", ext.request_wh), ext.decide_note or NOTES["reject_extension"])
    if status == "in_progress":
        previous = ext.decide_wh if ext and report["extension_status"] else cycle.start
        return Step("resolve", at(cycle.resolve, "resolve", previous), cycle.resolve_note or NOTES["resolve"])
    if status == "resolved" and report["resolved_at"] is not None:
        if cycle.rating is not None and cycle.rate_after is not None:
            return Step("rate", report["resolved_at"] + cycle.rate_after, rating=cycle.rating)
        # An officer closes it in office hours, however long after resolution the model's officer did.
        return Step("close", add_working_hours(report["resolved_at"] + (cycle.close_after or timedelta(days=3)), 0))
    return None


def unrated(report: dict[str, Any]) -> Step:
    """The officer's closing of a resolved report its citizen has not rated: 24-40 working hours after
    resolution, as in the history (a rating due before the simulation reached it never came)."""
    hours = OFFICER_CLOSE_WH[0] + (OFFICER_CLOSE_WH[1] - OFFICER_CLOSE_WH[0]) * pick(report["code"], range(101)) / 100
    return Step("close", add_working_hours(report["resolved_at"], hours))


def staff(report: dict[str, Any], action: str) -> Principal:
    """The simulated officer (or head, for extension decisions) of the unit now responsible."""
    title = "head" if action.endswith("_extension") and action != "request_extension" else "officer"
    if report["responsible_level"] == "ward":
        unit = report["admin_unit_code"]
        return Principal(f"sim:{title}:{unit}", "unit_head", unit_code=unit)
    return Principal(f"sim:{title}:{report['department']}", "unit_head", department=report["department"])


def pick(code: str, options: Sequence[Any]) -> Any:
    """The same option for the same report code, every run (a stable hash, not Python's)."""
    return options[zlib.crc32(code.encode()) % len(options)]


def hour_pieces(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at every hour (Huế time)."""
    pieces = []
    t = start.astimezone(TZ)
    while t < end:
        nxt = min(end, t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
        pieces.append((t, nxt))
        t = nxt
    return pieces


def arrivals_expected(start: datetime, end: datetime, per_day: float) -> list[tuple[datetime, datetime, float]]:
    """Hour-aligned pieces of [start, end) with the reports expected in each (weekday × hour of day)."""
    return [
        (t, nxt, per_day * WEEKDAY_SHARE[t.weekday()] * HOUR_SHARE[t.hour] * (nxt - t).total_seconds() / 3600)
        for t, nxt in hour_pieces(start, end)
    ]


def capacity_expected(rhythm: dict[str, np.ndarray], start: datetime, end: datetime) -> dict[str, float]:
    """Staff actions of each kind the history's staff did in [start, end)'s weekdays and hours (per week)."""
    hours = [(t.weekday(), t.hour, (nxt - t).total_seconds() / 3600) for t, nxt in hour_pieces(start, end)]
    return {action: sum(float(per_hour[d, h]) * share for d, h, share in hours) for action, per_hour in rhythm.items()}


@dataclass
class Simulator:
    """The simulator for one database: courses and arrival pools cached between windows."""

    settings: Settings
    courses: dict[str, list[Course]] = field(default_factory=dict)
    pools: dict[datetime, list[dict[str, Any]]] = field(default_factory=dict)
    rhythms: dict[datetime, dict[str, np.ndarray]] = field(default_factory=dict)
    courses_at: datetime | None = None
    # Near-duplicates filed and flagged by intake: the report each repeats (staff mark it so when they assign).
    near_duplicates: dict[str, str] = field(default_factory=dict)

    async def advance(self, conn: AsyncConnection, *, until: datetime | None = None) -> dict[str, int]:
        """Simulate from the clock to ``until`` (default now), window by window; what was written."""
        until = (until or datetime.now(TZ)).astimezone(TZ)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(load_sql("simulation/clock"))
            clock = await cur.fetchone()
        if clock is None:  # no generated history: nothing to carry on
            return {"reports": 0, "actions": 0}
        start = clock["simulated_until"].astimezone(TZ)
        earliest = until - timedelta(days=self.settings.simulate_catch_up_days)
        if start < earliest:
            log.info("simulation clock at %s: skipping to %s (catch-up is capped)", start, earliest)
            start = earliest
        totals = {"reports": 0, "actions": 0}
        while start < until:
            end = min(until, start + WINDOW)
            done = await self.window(conn, start, end)
            totals = {k: totals[k] + done[k] for k in totals}
            await conn.execute(load_sql("simulation/advance_clock"), {"until": end})
            start = end
        return totals

    async def window(self, conn: AsyncConnection, start: datetime, end: datetime) -> dict[str, int]:
        """New reports received in [start, end), then every staff or citizen step due before ``end``."""
        rng = np.random.default_rng([self.settings.seed, int(start.timestamp())])
        reports = await self._arrivals(conn, rng, start, end)
        actions = await self._work(conn, rng, start, end)
        return {"reports": reports, "actions": actions}

    async def _arrivals(self, conn: AsyncConnection, rng: np.random.Generator, start: datetime, end: datetime) -> int:
        pool = await self._pool(conn, start)
        if not pool:
            return 0
        per_day = len(pool) / (2 * SEASON.days)
        filed = 0
        for begin, finish, expected in arrivals_expected(start, end, per_day):
            for _ in range(rng.poisson(expected)):
                at = begin + (finish - begin) * float(rng.random())
                model = pool[int(rng.integers(len(pool)))]
                filed += await self._file(conn, rng, model, at)
        return filed

    async def _rhythm(self, conn: AsyncConnection, at: datetime) -> dict[str, np.ndarray]:
        """Staff actions per weekday × hour of day and week, by action, in the same season a year before."""
        day = at.replace(hour=0, minute=0, second=0, microsecond=0)
        if day not in self.rhythms:
            self.rhythms = {k: v for k, v in self.rhythms.items() if k > day - timedelta(days=2)}
            season = {"start": day - YEAR - SEASON, "end": day - YEAR + SEASON, "actions": list(STAFF_ACTIONS)}
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(load_sql("simulation/rhythm"), season)
                rows = await cur.fetchall()
            weeks = 2 * SEASON.days / 7
            rhythm = {action: np.zeros((7, 24)) for action in STAFF_ACTIONS}
            for row in rows:
                rhythm[row["action"]][row["weekday"], row["hour"]] = row["events"] / weeks
            self.rhythms[day] = rhythm
        return self.rhythms[day]

    async def _pool(self, conn: AsyncConnection, at: datetime) -> list[dict[str, Any]]:
        """Generated reports of the same season a year before (cached per day)."""
        day = at.replace(hour=0, minute=0, second=0, microsecond=0)
        if day not in self.pools:
            self.pools = {k: v for k, v in self.pools.items() if k > day - timedelta(days=2)}
            async with conn.cursor(row_factory=dict_row) as cur:
                season = {"start": day - YEAR - SEASON, "end": day - YEAR + SEASON}
                await cur.execute(load_sql("simulation/arrivals"), season)
                self.pools[day] = await cur.fetchall()
        return self.pools[day]

    async def _file(self, conn: AsyncConnection, rng: np.random.Generator, model: dict[str, Any], at: datetime) -> int:
        """File one copy of ``model`` a few metres away (at the model's spot if that leaves the city).

        A hotline model is filed by an operator with the call logged (the hotline service); a duplicate
        model repeats a recent open report of its category, inside its duplicate radius, and is remembered
        for staff to mark when intake flagged it.
        """
        target = await self._duplicate_target(conn, rng, model, at) if model.get("duplicate") else None
        lon0, lat0 = (target["lon"], target["lat"]) if target else (model["lon"], model["lat"])
        reach = min(JITTER_M, target["duplicate_radius_m"] / 2) if target else JITTER_M
        angle, radius = rng.random() * 2 * np.pi, reach * np.sqrt(rng.random())
        dlat = radius * np.sin(angle) / METRES_PER_DEGREE
        dlon = radius * np.cos(angle) / (METRES_PER_DEGREE * np.cos(np.radians(lat0)))
        channel = model["channel"] if model["channel"] in CHANNELS else "app"
        for lon, lat in ((lon0 + dlon, lat0 + dlat), (lon0, lat0)):
            try:
                if channel == "hotline":
                    filing = await hotline.file_report(
                        conn, category=model["category"], description=model["description"], lon=float(lon),
                        lat=float(lat), call=self._call(rng, "in", at), settings=self.settings, now=at, synthetic=True,
                    )  # fmt: skip
                    code, duplicates = filing.code, filing.duplicates
                else:
                    report = intake.ReportIn(model["category"], model["description"], float(lon), float(lat), channel)
                    result = await intake.create_report(
                        conn, report=report, settings=self.settings, now=at, synthetic=True
                    )
                    code, duplicates = result.code, result.duplicates
            except HueGISError as exc:
                log.debug("simulated report refused: %s", exc)
                continue
            if target and any(d["code"] == target["code"] for d in duplicates):
                self.near_duplicates[code] = target["code"]
            return 1
        return 0

    @staticmethod
    def _call(rng: np.random.Generator, direction: str, at: datetime) -> hotline.CallIn:
        """A simulated hotline call: a caller's ending at ``at`` (the report is filed then), a call-back from ``at``."""
        duration = round(float(rng.lognormal(np.log(CALL_SECONDS[direction]), 0.4)))
        operator = f"sim:hotline-op-{int(rng.integers(1, HOTLINE_OPERATORS + 1)):02d}"
        if direction == "in":
            return hotline.CallIn("in", duration, operator, at - timedelta(seconds=duration), note=CALL_NOTE_FILED)
        return hotline.CallIn("out", duration, operator, at, note=CALL_NOTE_RESULT)

    async def _duplicate_target(
        self, conn: AsyncConnection, rng: np.random.Generator, model: dict[str, Any], at: datetime
    ) -> dict[str, Any] | None:
        """A recent open synthetic report of the model's category to repeat (None: file an ordinary copy)."""
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(load_sql("simulation/duplicate_targets"), {"category": model["category"], "at": at})
            targets = await cur.fetchall()
        return targets[int(rng.integers(len(targets)))] if targets else None

    async def _work(self, conn: AsyncConnection, rng: np.random.Generator, start: datetime, end: datetime) -> int:
        """Every step due in [start, end) when it is due; overdue ones (the backlog) as capacity allows.

        A report on its course takes each step when the course says (in working hours), as in the
        history. A step already due before the window (the history's stalled reports, which its
        generator never finished) waits for spare capacity: a quarter of what the history's staff did
        in the same weekday and hours, so the backlog is worked off in office hours over weeks, never
        in a burst. Ratings are the citizens': whenever due.
        """
        courses = await self._courses(conn, start)
        expected = capacity_expected(await self._rhythm(conn, start), start, end)
        spare = {action: int(rng.poisson(BACKLOG_SHARE * n)) for action, n in expected.items()}
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(load_sql("simulation/open_reports"))
            reports = await cur.fetchall()
        due: list[tuple[datetime, int, dict[str, Any], Course, Step]] = []
        order = itertools.count()  # ties in the order queued

        def queue(report: dict[str, Any], course: Course) -> None:
            step = self._duplicate_step(report) or next_step(report, course)
            if step is not None and step.action == "rate" and step.at < start:
                step = unrated(report)  # its citizen did not rate in time: an officer closes it
            if step is not None and step.at < end:
                heapq.heappush(due, (step.at, next(order), report, course, step))

        for report in reports:
            if options := courses.get(report["category"]):
                queue(report, pick(report["code"], options))
        done = 0
        while due:  # oldest due first
            _, _, report, course, step = heapq.heappop(due)
            at = step.at
            if at < start:  # overdue: somewhere in this window, if the staff have time for it
                if step.action in spare:
                    if spare[step.action] <= 0:
                        continue
                    spare[step.action] -= 1
                at = start + (end - start) * float(rng.random())
            at = max(at, report["last_event_at"] + timedelta(seconds=1))
            if at >= end or not await self._apply(conn, rng, report, step, at):
                continue
            done += 1
            queue(report, course)
        return done

    def _duplicate_step(self, report: dict[str, Any]) -> Step | None:
        """A flagged near-duplicate is marked as such when an officer would have assigned it."""
        original = self.near_duplicates.get(report["code"])
        if original is None or report["status"] not in ("received", "assigned", "in_progress"):
            return None
        return Step("mark_duplicate", add_working_hours(report["received_at"], DEFAULTS["assign"]),
                    duplicate_of=original)  # fmt: skip

    async def _apply(
        self, conn: AsyncConnection, rng: np.random.Generator, report: dict[str, Any], step: Step, at: datetime
    ) -> bool:
        """Take one step through the services; update ``report`` as the database now has it."""
        try:
            if step.action == "rate":
                assert step.rating is not None
                status = await workflow.rate_report(conn, code=report["code"], rating=step.rating, now=at)
            else:
                status = await workflow.apply_action(
                    conn, code=report["code"], action=step.action, principal=staff(report, step.action), now=at,
                    note=step.note, hours=step.hours, duplicate_of=step.duplicate_of,
                )  # fmt: skip
                if step.action == "resolve" and report["channel"] == "hotline":  # the operator calls back
                    call = self._call(rng, "out", at)
                    end = at + timedelta(seconds=call.duration_s)
                    await hotline.log_call(conn, call=call, report_code=report["code"], now=end, synthetic=True)
        except HueGISError as exc:  # someone else changed the report (escalation, a real officer)
            log.debug("simulated %s on %s refused: %s", step.action, report["code"], exc)
            return False
        report["last_event_at"] = at
        if step.action == "mark_duplicate":
            self.near_duplicates.pop(report["code"], None)
        if step.action == "resolve":
            report["resolved_at"] = at
        elif step.action == "request_extension":
            report["extension_status"] = "requested"
        elif step.action.endswith("_extension"):
            report["extension_status"] = "approved" if step.action == "approve_extension" else "rejected"
        elif status == "reopened":
            report["reopened_count"] += 1
            report["reopened_at"] = at
        report["status"] = status
        return True

    async def _courses(self, conn: AsyncConnection, at: datetime) -> dict[str, list[Course]]:
        """Courses of finished generated reports by category (read once a day of simulated time)."""
        if self.courses_at is None or at - self.courses_at > timedelta(days=1):
            params = {"since": at - OUTCOME_PAST, "until": at, "per_category": OUTCOMES_PER_CATEGORY}
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(load_sql("simulation/outcomes"), params)
                rows = await cur.fetchall()
            courses: dict[str, list[Course]] = {}
            for row in rows:
                courses.setdefault(row["category"], []).append(course_of(row["received_at"], row["events"]))
            self.courses, self.courses_at = courses, at
        return self.courses


def _instant(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class CityRounds:
    """The app's background job (one process runs it: geo/jobs.py): each call is one window of city life,
    the first one catching up since the last run.

    After a window that wrote something, the KPI layer's current and previous months are rebuilt
    (at most every 15 minutes); the hot spots are recomputed once a week.
    """

    def __init__(self, pool: Any, settings: Settings) -> None:
        self.pool = pool
        self.simulator = Simulator(settings)
        self.conninfo = settings.conninfo(**KEEPALIVES)
        self.kpis_at = datetime.min.replace(tzinfo=TZ)
        self.actor = Actor("sim:analyst", "system")

    async def __call__(self) -> None:
        async with self.pool.connection() as conn:
            done = await self.simulator.advance(conn)
            now = datetime.now(TZ)
            if done["reports"] or done["actions"]:
                log.info("simulated %d reports and %d staff/citizen steps", done["reports"], done["actions"])
            if (done["reports"] or done["actions"]) and now - self.kpis_at >= KPI_EVERY:
                previous_month = (now.replace(day=1) - timedelta(days=1)).date()
                await refresh_kpi_months(conn, since=previous_month)
                self.kpis_at = now
        # On a connection of its own: the run lock is held for minutes while the pool's connection goes back.
        await refresh_hotspots(self.conninfo, max_age=HOTSPOT_MAX_AGE, actor=self.actor)
