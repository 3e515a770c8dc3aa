"""How each synthetic report was handled: a timeline per report, the columns and the audit trail.

Handling follows ``geo.reports.workflow`` step for step: receive → assign → start → resolve →
rate (closed) or close, with reject, mark_duplicate, extension request/decision, the automatic
escalation of ``geo/sql/reports/escalate_overdue.sql`` and one reopen after a rating of 2 or less.
Officers act in office hours: every stage lasts a number of *working* hours, mapped to clock time
with :class:`~layers.synth.report_calendar.WorkCalendar`; citizens rate at any hour.

The on-time share is calibrated, not hoped for: stage durations are drawn first, then scaled per
year so that the share of processed reports resolved within their original deadline hits the
target of that year (a quantile, so exact up to sampling), then measured on the finished history
and corrected once for what reopening and truncation at ``until`` change.

All instants are float64 epoch seconds (UTC), whole seconds; ``inf`` means "never happened".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.reports.workflow import MAX_EXTENSION_HOURS
from layers.synth import report_texts as texts
from layers.synth.report_calendar import WorkCalendar

F = NDArray[np.float64]
B = NDArray[np.bool_]
I = NDArray[np.int64]  # noqa: E741 - the usual name for an index array

NEVER = np.inf
HOUR = 3600.0
# Stage medians as a share of the category's SLA (working hours), before the yearly scaling.
ASSIGN_SHARE, START_SHARE, RESOLVE_SHARE = 0.08, 0.12, 0.55
STAGE_SIGMA = 0.7
MIN_STAGE_S = 72.0  # no stage is shorter than this: timestamps stay strictly increasing
ESCALATION_JOB_S = 300  # the app's escalation job runs every 5 minutes (settings.escalation_interval_s)

REJECT_RATE = {"other": 0.10, "tourism_services": 0.06, "noise": 0.05, "construction_violation": 0.05,
               "food_safety": 0.05, "traffic_order": 0.04}  # fmt: skip
REJECT_DEFAULT = 0.025
ABANDON_RATE = 0.009  # never finished: the backlog that keeps "processed" just under 100 %
ABANDON_BY_CATEGORY = {"construction_violation": 2.5, "road_damage": 1.8, "sidewalk_encroachment": 1.5}
DUPLICATE_MARKED = 0.6  # share of same-spot repeats, arriving while the first is open, that staff merge

EXTENSION_REQUESTED = 0.99  # a unit that sees it will be late asks for more time …
EXTENSION_REQUESTED_SLOW = 0.85  # … a struggling one less reliably
EXTENSION_APPROVED = 0.99
EXTENSION_UNDERESTIMATED = 0.02

RATED_BY_CHANNEL = {"app": 0.62, "open311": 0.40, "web": 0.45, "hotline": 0.30}
# P(rating = 1..5) after an on-time, a late-with-extension and a breached resolution.
RATING_P = {
    "on_time": (0.008, 0.012, 0.025, 0.235, 0.720),
    "late_ext": (0.012, 0.018, 0.040, 0.310, 0.620),
    "breached": (0.050, 0.050, 0.080, 0.350, 0.470),
}
RATING_AFTER_REOPEN = (0.10, 0.10, 0.20, 0.30, 0.30)
RATED_AFTER_REOPEN = 0.7
COMMENTED = 0.12


@dataclass(frozen=True)
class OutcomeInputs:
    """Per-report facts the handling depends on (arrays of one length, reports in time order)."""

    t0: F  # received_at
    year: I  # local year of received_at
    category: NDArray[np.object_]
    sla_h: F
    unit: I  # index of the responsible unit in ``unit_codes``
    channel: NDArray[np.object_]
    root: I  # earlier report at the same spot this one repeats (-1: none)
    root_dist_m: F
    duplicate_radius_m: F
    duplicate_window_s: F


@dataclass(frozen=True)
class UnitEffects:
    """Per-unit differences (arrays indexed like ``codes``) and the injected slow units."""

    codes: tuple[str, ...]
    speed: F  # multiplies every stage duration
    reject: F  # multiplies the rejection rate
    low_rating: F  # multiplies the probability of ratings 1-3
    slow: B
    slow_stage: NDArray[np.object_]  # per unit: the stage slowed ("assigned" or "in_progress")
    slow_factor: F  # per unit: how many times longer the stage lasts (1: not slowed)
    slow_since: F  # per unit, epoch seconds: reports received from then on are slowed (-inf: all)
    slow_until: F  # per unit, epoch seconds: reports received from then on are not (inf: never ends)


@dataclass
class Timeline:
    """Every instant of every report (``inf``: did not happen) and the decisions taken."""

    kind: NDArray[np.object_]  # resolve | reject | duplicate | abandon
    due: F
    assign1: F
    start1: F
    resolve1: F
    reject: F
    duplicate: F
    ext_request: F
    ext_decision: F
    ext_approved: B
    ext_hours: I
    ext_due: F
    escalate: F
    rate1: F
    rating1: I
    close1: F  # closed by an officer (no rating)
    reopen: F
    assign2: F
    start2: F
    resolve2: F
    rate2: F
    rating2: I
    close2: F
    u_text: F  # uniform draws choosing texts


def only_where(mask: NDArray[np.bool_], values: NDArray | str) -> NDArray[np.object_]:
    """``values`` where ``mask`` holds, None (SQL NULL) elsewhere."""
    out = np.full(len(mask), None, dtype=object)
    out[mask] = values[mask] if isinstance(values, np.ndarray) else values
    return out


def on_time_target(year: I | NDArray, share_2022: float, trend: float) -> F:
    """Target share of processed reports resolved within the original deadline, per year."""
    return np.asarray(np.clip(share_2022 + trend * (np.asarray(year) - 2022), 0.05, 0.95), dtype=np.float64)


class _Draws:
    """Every random number the handling needs, drawn once so calibration passes reuse them."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.z = rng.standard_normal((6, n))  # assign, start, resolve; second cycle ×3
        self.u = rng.random((24, n))
        self.rate_delay = rng.exponential(20 * HOUR, size=(2, n))


def simulate(inputs: OutcomeInputs, units: UnitEffects, *, calendar: WorkCalendar, rng: np.random.Generator,
             targets: Mapping[int, float], until: float) -> Timeline:  # fmt: skip
    """Simulate the handling of every report, calibrated to the yearly on-time ``targets``.

    Parameters
    ----------
    inputs, units
        The reports and the units that handle them.
    calendar
        Office hours; covers ``until`` plus the longest possible handling.
    rng
        The random source (consumed once, whatever the number of calibration passes).
    targets
        Year → share of processed (resolved or closed) reports resolved by the original deadline.
    until
        End of the history (epoch seconds): later events are cut when the columns are derived.
    """
    draws = _Draws(rng, len(inputs.t0))
    wanted = dict(targets)
    # Calibrate as if no unit were slow: the injected units get slower and every other unit keeps
    # exactly the pace it has without the injection (the overall on-time share dips instead).
    timeline = _simulate(inputs, units, calendar, draws, wanted, inject=False)
    # Reopened reports finish late and reports open at `until` drop out: measure, correct once.
    measured = measured_on_time(inputs, timeline, until)
    corrected = {y: float(np.clip(2 * wanted[y] - measured.get(y, wanted[y]), 0.02, 0.98)) for y in wanted}
    return _simulate(inputs, units, calendar, draws, corrected, inject=True)


def _stage_hours(inputs: OutcomeInputs, units: UnitEffects, draws: _Draws) -> tuple[F, F, F]:
    """Unscaled stage durations in working hours: waiting for assignment, assigned, in progress."""
    sla = inputs.sla_h
    speed = units.speed[inputs.unit]
    a = ASSIGN_SHARE * sla * np.exp(STAGE_SIGMA * draws.z[0]) * speed
    s = START_SHARE * sla * np.exp(STAGE_SIGMA * draws.z[1]) * speed
    r = RESOLVE_SHARE * sla * np.exp(STAGE_SIGMA * draws.z[2]) * speed
    return a, s, r


def _stretch(w0: F, a: F, s: F, r: F, slow: B, units: UnitEffects, unit: NDArray[np.int64],
             cal: WorkCalendar) -> tuple[F, F]:  # fmt: skip
    """Injected slow units: their dwell in their slowed stage lasts their factor times longer in elapsed time.

    Elapsed (clock) time is what citizens wait and what bottleneck detection measures; the stage
    ends at the office hour reached, and the stages after it run as usual from there.
    """
    if not slow.any():
        return s, r
    assigned = units.slow_stage[unit] == "assigned"
    begin = np.where(assigned, cal.clock(w0 + a), cal.clock(w0 + a + s))
    end = np.where(assigned, cal.clock(w0 + a + s), cal.clock(w0 + a + s + r))
    target = np.round(begin + units.slow_factor[unit] * (end - begin))
    reached = cal.work(target)
    # Outside office hours the stage ends at the next opening, not back at last evening's close.
    stretched = np.where(cal.clock(reached) < target, reached + 1, reached) - w0
    s_new = np.where(slow & assigned, np.maximum(stretched - a, s), s)
    r_new = np.where(slow & ~assigned, np.maximum(stretched - a - s, r), r)
    return s_new, r_new


def _scale(inputs: OutcomeInputs, total: F, kind: NDArray[np.object_], targets: Mapping[int, float]) -> F:
    """Per-report factor making P(total ≤ SLA) hit each year's target among resolved reports."""
    ratio = total / inputs.sla_h
    scale = np.ones_like(total)
    for year, target in targets.items():
        in_year = inputs.year == year
        pool = ratio[in_year & (kind == "resolve")]
        if len(pool):
            scale[in_year] = 1.0 / np.quantile(pool, target)
    return scale


def _seconds(hours: F) -> F:
    return np.asarray(np.maximum(np.round(hours * HOUR), MIN_STAGE_S))


def _simulate(inputs: OutcomeInputs, units: UnitEffects, cal: WorkCalendar, draws: _Draws,
              targets: Mapping[int, float], *, inject: bool) -> Timeline:  # fmt: skip
    n = len(inputs.t0)
    u = draws.u
    sla = inputs.sla_h
    cat = pd.Series(inputs.category)
    slow = (
        units.slow[inputs.unit]
        & (inputs.t0 >= units.slow_since[inputs.unit])
        & (inputs.t0 < units.slow_until[inputs.unit])
        & inject
    )
    w0 = cal.work(inputs.t0)

    def at(offset_s: F) -> F:
        """Clock instant ``offset_s`` working seconds after each report was received."""
        return cal.clock(w0 + offset_s)

    # --- what happens to the report (duplicates depend on the first report's timeline: below)
    p_reject = cat.map(REJECT_RATE).fillna(REJECT_DEFAULT).to_numpy(float) * units.reject[inputs.unit]
    p_abandon = ABANDON_RATE * cat.map(ABANDON_BY_CATEGORY).fillna(1.0).to_numpy(float)
    usual = np.where(u[0] < p_reject, "reject", np.where(u[1] < p_abandon, "abandon", "resolve")).astype(object)
    slow_abandon = slow & (u[1] < 4.0 * p_abandon) & (usual == "resolve")
    kind = np.where(slow_abandon, "abandon", usual).astype(object)

    a_h, s_h, r_h = _stage_hours(inputs, units, draws)
    # Scaled on the usual outcomes, so an injection leaves every other unit's pace exactly as it was.
    scale = _scale(inputs, a_h + s_h + r_h, usual, targets)
    a, s, r = _seconds(a_h * scale), _seconds(s_h * scale), _seconds(r_h * scale)
    s, r = _stretch(w0, a, s, r, slow, units, inputs.unit, cal)
    total = a + s + r
    sla_s = sla * HOUR
    due = at(sla_s)

    assign1 = at(a)
    start1 = at(a + s)
    resolve1 = at(total)

    # Rejections are decided at triage or just after assignment; the first is quick.
    after_assign = u[2] < 0.5
    decide = _seconds(0.1 + 2.9 * u[3])
    reject = np.where(after_assign, at(a + decide), at(a))

    # Same-spot repeats of the same category arriving while the first report is still open, within
    # the category's radius and window, are merged by staff (the first report is never a repeat).
    root = inputs.root
    has_root = root >= 0
    root_end = np.full(n, NEVER)
    root_idx = np.where(has_root, root, 0)
    first_end = np.where(kind == "resolve", resolve1, np.where(kind == "reject", reject, NEVER))
    root_end[has_root] = first_end[root_idx[has_root]]
    dup = (
        has_root
        & (inputs.category == inputs.category[root_idx])
        & (inputs.t0 < root_end)
        & (inputs.root_dist_m <= inputs.duplicate_radius_m)
        & (inputs.t0 - inputs.t0[root_idx] <= inputs.duplicate_window_s)
        & (u[4] < DUPLICATE_MARKED)
    )
    kind = np.where(dup, "duplicate", kind).astype(object)
    dup_after_assign = u[5] < 0.3
    duplicate = np.where(dup_after_assign, at(a + decide), at(np.maximum(np.round(a / 2), MIN_STAGE_S)))

    resolving = kind == "resolve"
    late = resolving & (total > sla_s)
    # --- deadline extensions: asked for before the deadline by a unit that sees it will be late
    can_ask = a + 0.1 * HOUR < sla_s
    p_ask = np.where(slow, EXTENSION_REQUESTED_SLOW, EXTENSION_REQUESTED)
    asked = late & can_ask & (u[6] < p_ask)
    req_w = np.clip(sla_s * (0.5 + 0.45 * u[7]), a + 0.05 * HOUR, sla_s - 0.1 * HOUR)
    req_w = np.round(np.maximum(req_w, a + 1))
    dec_w = np.round(req_w + np.minimum((0.25 + 2.75 * u[8]) * HOUR, (sla_s - req_w) * 0.9))
    dec_w = np.maximum(dec_w, req_w + 1)
    approved = asked & (u[9] < EXTENSION_APPROVED)
    needed_h = (total - sla_s) / HOUR
    hours = 8 * np.ceil(needed_h / 8) + np.where(u[10] < 0.3, 8, 0)
    under = (u[11] < EXTENSION_UNDERESTIMATED) & (needed_h > 8)
    hours = np.where(under, 8 * np.floor(needed_h / 8), hours)
    hours = np.clip(hours, 8, MAX_EXTENSION_HOURS).astype(np.int64)
    ext_request = np.where(asked, at(req_w), NEVER)
    ext_decision = np.where(asked, at(dec_w), NEVER)
    ext_due = np.where(approved, at(sla_s + hours * HOUR), NEVER)
    effective_due = np.where(approved, ext_due, due)

    # --- ratings and closing
    close_after = _seconds(24 + 16 * u[12])
    officer_close1 = cal.clock(cal.work(resolve1) + close_after)
    rated = resolving & (u[13] < pd.Series(inputs.channel).map(RATED_BY_CHANNEL).to_numpy(float))
    rate1 = np.round(resolve1 + 300 + draws.rate_delay[0])
    rated &= rate1 < officer_close1
    on_time = total <= sla_s
    within_ext = approved & (total <= sla_s + hours * HOUR)
    klass = np.where(on_time, 0, np.where(within_ext, 1, 2))
    rating1 = _ratings(klass, units.low_rating[inputs.unit], u[14])
    reopened = rated & (rating1 <= 2)
    rate1 = np.where(rated, rate1, NEVER)
    close1 = np.where(resolving & ~rated, officer_close1, NEVER)

    # Second cycle after a reopen: quicker, the problem is known.
    reopen = np.where(reopened, rate1, NEVER)
    wr = cal.work(np.where(reopened, rate1, inputs.t0))
    a2 = _seconds(0.5 * sla * np.exp(0.6 * draws.z[3]) * 0.3)
    s2 = _seconds(0.5 * sla * np.exp(0.6 * draws.z[4]) * 0.3)
    r2 = _seconds(0.5 * sla * np.exp(0.6 * draws.z[5]))
    assign2 = np.where(reopened, cal.clock(wr + a2), NEVER)
    start2 = np.where(reopened, cal.clock(wr + a2 + s2), NEVER)
    resolve2 = np.where(reopened, cal.clock(wr + a2 + s2 + r2), NEVER)
    # A reopened report without an extension yet asks for one (allowed from `reopened`) when the
    # second round will end after the original deadline; one extension per report, as the API allows.
    w_due = w0 + sla_s
    needed2_h = (cal.work(np.where(reopened, resolve2, inputs.t0)) - w_due) / HOUR
    asked2 = reopened & ~asked & (needed2_h > 0) & (u[20] < p_ask)
    approved2 = asked2 & (u[21] < EXTENSION_APPROVED)
    hours2 = np.clip(8 * np.ceil(needed2_h / 8) + np.where(u[22] < 0.3, 8, 0), 8, MAX_EXTENSION_HOURS)
    req2 = cal.clock(wr + np.maximum(np.round(0.3 * a2), 1))
    dec2 = cal.clock(wr + np.maximum(np.round(0.6 * a2), 2))
    ext_request = np.where(asked2, req2, ext_request)
    ext_decision = np.where(asked2, dec2, ext_decision)
    hours = np.where(asked2, hours2, hours).astype(np.int64)
    approved = approved | approved2
    ext_due = np.where(approved2, cal.clock(w_due + hours * HOUR), ext_due)
    officer_close2 = cal.clock(cal.work(np.where(reopened, resolve2, inputs.t0)) + close_after)
    rate2 = np.round(resolve2 + 300 + draws.rate_delay[1])
    rated2 = reopened & (u[15] < RATED_AFTER_REOPEN) & (rate2 < officer_close2)
    rate2 = np.where(rated2, rate2, NEVER)
    rating2 = np.where(rated2, 1 + np.searchsorted(np.cumsum(RATING_AFTER_REOPEN), u[16] * 0.999999), 0)
    close2 = np.where(reopened & ~rated2, officer_close2, NEVER)

    # --- automatic escalation: the first job run after the deadline while the report is open
    lag = 1 + np.floor(u[17] * ESCALATION_JOB_S)
    end1 = np.select(
        [kind == "resolve", kind == "reject", kind == "duplicate"], [resolve1, reject, duplicate], default=NEVER
    )
    esc1 = effective_due + lag
    # In the second round the job sees the extended deadline only once it has been approved.
    due2 = np.where(approved & (ext_decision <= np.maximum(reopen, due)), ext_due, due)
    esc2 = np.maximum(reopen, due2) + lag
    escalate = np.where(esc1 < end1, esc1, np.where(reopened & (esc2 < resolve2), esc2, NEVER))

    never = np.full(n, NEVER)
    started = (kind == "resolve") | ((kind == "abandon") & (u[18] < 0.6))
    assigned = (kind != "duplicate") | dup_after_assign
    assigned &= (kind != "reject") | after_assign
    return Timeline(
        kind=kind,
        due=due,
        assign1=np.where(assigned, assign1, NEVER),
        start1=np.where(started, start1, NEVER),
        resolve1=np.where(resolving, resolve1, NEVER),
        reject=np.where(kind == "reject", reject, NEVER),
        duplicate=np.where(kind == "duplicate", duplicate, NEVER),
        ext_request=np.where(resolving, ext_request, NEVER),
        ext_decision=np.where(resolving, ext_decision, NEVER),
        ext_approved=resolving & approved,
        ext_hours=hours,
        ext_due=np.where(resolving, ext_due, NEVER),
        escalate=escalate,
        rate1=np.where(resolving, rate1, NEVER),
        rating1=rating1,
        close1=close1,
        reopen=np.where(resolving, reopen, never),
        assign2=np.where(resolving, assign2, NEVER),
        start2=np.where(resolving, start2, NEVER),
        resolve2=np.where(resolving, resolve2, NEVER),
        rate2=np.where(resolving, rate2, NEVER),
        rating2=rating2.astype(np.int64),
        close2=np.where(resolving, close2, NEVER),
        u_text=u[19],
    )


def _ratings(klass: I, low_factor: F, u: F) -> I:
    """Ratings 1-5 by how the report was handled, a unit's citizens a little more or less pleased."""
    p = np.array([RATING_P["on_time"], RATING_P["late_ext"], RATING_P["breached"]])[klass]
    p[:, :3] *= low_factor[:, None]
    p[:, 4] = 1.0 - p[:, :4].sum(axis=1)
    cdf = np.cumsum(p, axis=1)
    return np.asarray(1 + (u[:, None] > cdf).sum(axis=1), dtype=np.int64).clip(1, 5)


# --- the state at `until` ----------------------------------------------------------------------


def _before(t: F, until: float) -> B:
    return np.asarray(t < until)


def columns_at(inputs: OutcomeInputs, tl: Timeline, until: float) -> dict[str, np.ndarray]:
    """The report columns as they stand at ``until`` (epoch seconds; NaN where NULL)."""
    nan = np.nan
    b = {name: _before(getattr(tl, name), until) for name in (
        "assign1", "start1", "resolve1", "reject", "duplicate", "ext_request", "ext_decision", "escalate", "rate1",
        "close1", "reopen", "assign2", "start2", "resolve2", "rate2", "close2")}  # fmt: skip
    assigned_at = np.where(b["assign2"], tl.assign2, np.where(b["assign1"], tl.assign1, nan))
    started_at = np.where(b["start2"], tl.start2, np.where(b["start1"], tl.start1, nan))
    resolved_at = np.where(
        b["resolve2"], tl.resolve2, np.where(b["reopen"], nan, np.where(b["resolve1"], tl.resolve1, nan))
    )
    closed_at = np.select(
        [b["rate2"], b["close2"], b["rate1"] & ~b["reopen"], b["close1"]],
        [tl.rate2, tl.close2, tl.rate1, tl.close1],
        default=nan,
    )
    rating = np.where(b["rate2"], tl.rating2, np.where(b["rate1"], tl.rating1, 0)).astype(np.int64)
    status = np.select(
        [
            b["rate2"] | b["close2"] | (b["rate1"] & ~b["reopen"]) | b["close1"],
            b["resolve2"],
            b["start2"],
            b["assign2"],
            b["reopen"],
            b["resolve1"],
            b["reject"],
            b["duplicate"],
            b["start1"],
            b["assign1"],
        ],
        [
            "closed",
            "resolved",
            "in_progress",
            "assigned",
            "reopened",
            "resolved",
            "rejected",
            "duplicate",
            "in_progress",
            "assigned",
        ],
        default="received",
    ).astype(object)
    decided = b["ext_decision"]
    extension_status = only_where(b["ext_request"], "requested")
    extension_status[decided] = np.where(tl.ext_approved, "approved", "rejected")[decided]
    approved_due = decided & tl.ext_approved
    return {
        "status": status,
        "due_at": np.where(approved_due, tl.ext_due, tl.due),
        "assigned_at": assigned_at,
        "started_at": started_at,
        "resolved_at": resolved_at,
        "closed_at": closed_at,
        "escalated_at": np.where(b["escalate"], tl.escalate, nan),
        "extension_status": extension_status,
        "extension_hours": np.where(b["ext_request"], tl.ext_hours, 0).astype(np.int64),
        "rating": rating,
        "reopened_count": b["reopen"].astype(np.int16),
        "is_duplicate": b["duplicate"],
        "rejected": b["reject"],
    }


def measured_on_time(inputs: OutcomeInputs, tl: Timeline, until: float) -> dict[int, float]:
    """Share of resolved/closed reports per received year resolved by their original deadline."""
    cols = columns_at(inputs, tl, until)
    done = np.isin(cols["status"], ["resolved", "closed"])
    on_time = (cols["resolved_at"] <= cols["due_at"]) & (cols["extension_status"] != "approved")
    frame = pd.DataFrame({"year": inputs.year[done], "on_time": on_time[done]})
    return {int(y): float(v) for y, v in frame.groupby("year")["on_time"].mean().items()}


# --- the audit trail ---------------------------------------------------------------------------

# Order of events that share an instant (ties are rare: a job run and a decision in one second).
ORDER = {"receive": 0, "assign": 1, "reject": 2, "mark_duplicate": 2, "start": 3, "request_extension": 4,
         "approve_extension": 5, "reject_extension": 5, "auto_escalate": 6, "resolve": 7, "rate": 8, "reopen": 8,
         "close": 8}  # fmt: skip


def pick(options: tuple[str, ...], u: F) -> NDArray[np.object_]:
    return np.asarray(options, dtype=object)[np.minimum((u * len(options)).astype(np.int64), len(options) - 1)]


def build_events(inputs: OutcomeInputs, tl: Timeline, *, until: float, unit_codes: NDArray[np.object_],
                 receive_details: NDArray[np.object_], receive_notes: NDArray[np.object_],
                 escalated_to: NDArray[np.object_], codes: NDArray[np.object_],
                 result_notes: NDArray[np.object_]) -> pd.DataFrame:  # fmt: skip
    """Every transition before ``until`` as ``report_events`` rows (``report_idx`` instead of an id).

    Columns: report_idx, at (epoch seconds), actor, action, from_status, to_status, note, details
    (JSON text). Statuses are derived by replaying the actions in time order.
    """
    n = len(inputs.t0)
    idx = np.arange(n)
    officer = np.asarray("officer:" + pd.Series(unit_codes).astype(str), dtype=object)
    head = np.asarray("head:" + pd.Series(unit_codes).astype(str), dtype=object)
    u = tl.u_text
    parts: list[pd.DataFrame] = []

    def add(action: str, t: F, actor: NDArray | str, new_status: str | None, note: NDArray | str | None = None,
            details: NDArray | str = "{}") -> None:  # fmt: skip
        keep = np.asarray(t < until)
        if not keep.any():
            return

        def cut(value: NDArray | str | None) -> NDArray | str | None:
            return value[keep] if isinstance(value, np.ndarray) else value

        parts.append(
            pd.DataFrame(
                {
                    "report_idx": idx[keep],
                    "at": t[keep],
                    "order": ORDER[action],
                    "actor": cut(actor),
                    "action": action,
                    "new_status": new_status,
                    "note": cut(note),
                    "details": cut(details),
                }
            )
        )

    channel_actor = np.asarray("citizen:" + pd.Series(inputs.channel).astype(str), dtype=object)
    add("receive", inputs.t0, channel_actor, "received", receive_notes, receive_details)
    add("assign", tl.assign1, officer, "assigned")
    add("reject", tl.reject, officer, "rejected", pick(texts.REJECTIONS, u))
    dup_details = np.asarray('{"duplicate_of": "' + pd.Series(codes[np.maximum(inputs.root, 0)]) + '"}', dtype=object)
    add("mark_duplicate", tl.duplicate, officer, "duplicate", None, dup_details)
    add("start", tl.start1, officer, "in_progress")
    hours_json = np.asarray('{"hours": ' + pd.Series(tl.ext_hours).astype(str) + "}", dtype=object)
    add("request_extension", tl.ext_request, officer, None, pick(texts.EXTENSION_REASONS, u), hours_json)
    approved = np.where(tl.ext_approved, tl.ext_decision, NEVER)
    refused = np.where(~tl.ext_approved, tl.ext_decision, NEVER)
    due_iso = _iso(np.where(np.isfinite(tl.ext_due), tl.ext_due, 0))
    hours, due, previous_due = pd.Series(tl.ext_hours).astype(str), pd.Series(due_iso), pd.Series(_iso(tl.due))
    approve_json = np.asarray(
        '{"hours": ' + hours + ', "due_at": "' + due + '", "previous_due_at": "' + previous_due + '"}', dtype=object
    )
    add("approve_extension", approved, head, None, None, approve_json)
    add("reject_extension", refused, head, None, texts.EXTENSION_REFUSAL)
    esc_json = np.asarray('{"department": "' + pd.Series(escalated_to).astype(str) + '"}', dtype=object)
    add("auto_escalate", tl.escalate, "system", None, texts.ESCALATION_NOTE, esc_json)
    add("resolve", tl.resolve1, officer, "resolved", result_notes)
    rating_json = np.asarray('{"rating": ' + pd.Series(tl.rating1).astype(str) + "}", dtype=object)
    said = comments(tl.rating1, u)
    add("reopen", np.where(tl.rating1 <= 2, tl.rate1, NEVER), "citizen", "reopened", said, rating_json)
    add("rate", np.where(tl.rating1 > 2, tl.rate1, NEVER), "citizen", "closed", said, rating_json)
    add("close", tl.close1, officer, "closed")
    add("assign", tl.assign2, officer, "assigned")
    add("start", tl.start2, officer, "in_progress")
    add("resolve", tl.resolve2, officer, "resolved", result_notes)
    rating2_json = np.asarray('{"rating": ' + pd.Series(tl.rating2).astype(str) + "}", dtype=object)
    add("rate", tl.rate2, "citizen", "closed", comments(tl.rating2, 1 - u), rating2_json)
    add("close", tl.close2, officer, "closed")

    events = pd.concat(parts, ignore_index=True)
    events = events.sort_values(["report_idx", "at", "order"], kind="stable", ignore_index=True)
    # Replay: an action that keeps the status (extension, escalation) reports the current one.
    events["to_status"] = events["new_status"].ffill()
    events["from_status"] = events["to_status"].shift(1).where(events["action"] != "receive")
    return events[["report_idx", "at", "actor", "action", "from_status", "to_status", "note", "details"]]


def no_events(inputs: OutcomeInputs, tl: Timeline, **_: Any) -> pd.DataFrame:
    """``build_events``' frame with no rows: a history loaded without its audit trail (a quicker,
    smaller national load; ``build_events`` draws no random numbers, so the reports are the same)."""
    columns = {"report_idx": np.int64, "at": float, "actor": object, "action": object, "from_status": object,
               "to_status": object, "note": object, "details": object}  # fmt: skip
    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in columns.items()})


def comments(rating: I, u: F) -> NDArray[np.object_]:
    """A short comment for some ratings: praise for 4-5, a complaint for 1-2, none for 3."""
    praise = pick(texts.PRAISE, u * 7 % 1)
    complaint = pick(texts.COMPLAINTS, u * 11 % 1)
    commented = (u * 13 % 1) < COMMENTED
    out = only_where(rating >= 4, praise)
    out[rating <= 2] = complaint[rating <= 2]
    # Someone who reopens a report always says why.
    return only_where(commented | ((rating <= 2) & (rating > 0)), out)


def _iso(t: F) -> NDArray[np.object_]:
    """ISO 8601 in ICT with an explicit offset, as ``datetime.isoformat`` writes it."""
    local = pd.to_datetime(t, unit="s", utc=True).tz_convert("Asia/Ho_Chi_Minh")
    return np.asarray(local.strftime("%Y-%m-%dT%H:%M:%S+07:00"), dtype=object)


def receive_details(admin_unit_code: NDArray, admin_unit_name: NDArray, department: NDArray) -> NDArray[np.object_]:
    """The receive event's details, exactly as intake writes them (routing decision)."""
    frame = pd.DataFrame({"code": admin_unit_code, "name": admin_unit_name, "dept": department})
    keys = frame.drop_duplicates()
    text = {}
    for code, name, dept in keys.itertuples(index=False):
        dept_value = dept if isinstance(dept, str) else None
        route = {"admin_unit_code": code, "admin_unit_name": name,
                 "responsible_level": "city" if dept_value else "ward", "department": dept_value}  # fmt: skip
        text[(code, dept_value)] = json.dumps({"routed_to": dept_value or code, **route}, ensure_ascii=False)
    dept_keys = [d if isinstance(d, str) else None for d in frame["dept"]]
    return np.asarray([text[(c, d)] for c, d in zip(frame["code"], dept_keys, strict=True)], dtype=object)
