"""Bottleneck detection: which units and workflow stages pile up work, and why.

A *handler* is the unit that owns a report's category: the ward/commune for ward-level
categories, the city department for city-level ones. For every handler and workflow stage
(received, assigned, in_progress) the detector takes the hours each report spent in the stage
and divides them by the median for that category and stage, so a department whose categories
have long deadlines is not "slow" and a ward's mix of categories does not matter. On these
per-report log ratios it makes two comparisons, for every candidate onset ``τ`` of a slowdown
(``onsets``: 30 days to 18 months before now):

* **Own history**: the handler's reports of the last ``τ`` days against its own reports of the
  ``history_days`` before them, one-sided Mann-Whitney test, each period seen as of its own end and
  relative to the whole city's reports of the stage in that period (so a city-wide slow season is
  not a unit's bottleneck). Scanning the onset finds a slowdown that began a month ago as well as one a
  year old, which a fixed window would dilute or compare with an already slow past. The only
  comparison a department has, since no other department handles its categories.
* **Peers**: the handler's median over the last ``τ`` days against those of the other handlers of
  its kind (wards, communes) on the categories they share, as a random-effects z-score: the gap is
  divided by the natural spread between units plus the handler's own sampling error, both
  estimated robustly (median absolute deviations), so small units are judged with their
  uncertainty and naturally a bit slower units are not outliers.

A handler with a past is judged by its own-history test at every onset (a peer gap alone would
flag a unit slow by nature); the peers decide only for a handler without one, and a handler that got
slower but is still quicker than its peers is not flagged. Of a (handler, stage)'s onsets the most
significant one with the required effect is kept and its p-value multiplied by the number of onsets
tried (Bonferroni). Two tests look at the backlog of open work instead of dwell times:

* **Overdue work**: the handler's reports of the last ``window_days`` that are open and overdue
  now, against the count expected from its peers' overdue share per category (one-sided Poisson
  tail with that exposure);
* **Backlog growth**: the reports that fell overdue in the last ``growth_days`` and are still open,
  against the mean of the ``growth_periods`` periods before (one-sided Poisson tail): a unit swamped
  by more work than usual piles up overdue reports even when each report takes no longer than
  before, which the dwell tests cannot see. Counting what fell overdue lately, not the whole stock,
  keeps long-stuck reports from hiding a new pile-up (or from flagging a unit that only keeps them).

Only (handler, stage) pairs with at least ``min_volume`` reports (in both periods for the history
comparison; at an onset shorter than ``volume_days``, ``min_volume`` per ``volume_days`` days) are
tested, and overdue work needs ``min_excess`` overdue reports more than expected. The p-values of
all tests together are adjusted with Benjamini-Hochberg (false-discovery rate ``alpha``), and a flag
also needs a practical effect of ``min_ratio``: the handler's median is that many times its own
before the onset (and not below its peers'), or, without enough history, that many times its
peers'; overdue work that many times the expected count; that many times more reports fallen
overdue than usual. A unit that was always slow but got no slower is therefore not flagged. Each
flag says why in words and numbers.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from scipy import stats

from geo.db import load_sql
from geo.errors import InvalidInput

STAGE_NAMES = {
    "received": ("tiếp nhận", "received"),
    "assigned": ("đã phân công", "assigned"),
    "in_progress": ("đang xử lý", "in progress"),
}
MIN_HOURS = 0.01  # a stage closed within seconds: floor before taking logs
MIN_PEERS = 3  # fewer handlers of a kind with volume: no peer comparison
MAD_SCALE = 1.4826  # makes the MAD a consistent estimator of the standard deviation
MEDIAN_SE = 1.2533  # standard error of a median, in standard deviations per 1/sqrt(n): sqrt(pi / 2)
MIN_TAU = 0.1  # floor of the between-unit spread (log scale): identical peers must not make tiny gaps significant


@dataclass(frozen=True)
class BottleneckSettings:
    """Detection parameters (the API's defaults; measured on generated histories: bench/bottlenecks.py)."""

    window_days: int = 180  # reports of this window are compared with the peers' for overdue work
    history_days: int = 365  # own history: this many days before each candidate onset
    onsets: tuple[int, ...] = (30, 60, 90, 135, 180, 270, 365, 540)  # candidate onsets, days before now
    growth_days: int = 30  # backlog growth: reports fallen overdue (still open) in periods of this many days
    growth_periods: int = 6  # … the latest against the mean of this many periods before it (the usual pace)
    min_volume: int = 8
    min_ratio: float = 2.0
    alpha: float = 0.05
    # Evidence in reports, not only in ratios (tuned on seeds 101-105): overdue work needs this many overdue
    # reports more than expected (4 against 0.5 is a ratio of 8 and easily chance) …
    min_excess: float = 8.0
    volume_days: int = 60  # … and an onset shorter than this needs min_volume reports per this many days (16 at 30)

    def __post_init__(self) -> None:
        if self.window_days < 7 or self.history_days < 0 or self.min_volume < 1:
            raise InvalidInput("window_days >= 7, history_days >= 0 and min_volume >= 1 are required")
        if self.growth_days < 1 or self.growth_periods < 1:
            raise InvalidInput("growth_days and growth_periods must be at least 1")
        if not self.onsets or min(self.onsets) < 1:
            raise InvalidInput("onsets must be a non-empty list of positive numbers of days")
        if not 0 < self.alpha < 1 or self.min_ratio < 1:
            raise InvalidInput("alpha must be in (0, 1) and min_ratio >= 1")
        if self.min_excess < 0 or self.volume_days < 0:
            raise InvalidInput("min_excess and volume_days must not be negative")


@dataclass
class Flag:
    """One detected bottleneck."""

    handler: str
    handler_kind: str
    name_vi: str
    name_en: str
    metric: str  # "stage_dwell", "overdue" or "backlog_growth"
    stage: str | None
    value: float  # median hours in the stage (overdue: overdue reports of the window; growth: fallen overdue)
    peer_value: float  # the same at the peers' pace for the handler's categories (overdue: expected count)
    own_history: float | None  # the same at its own pace before the onset (growth: its usual count)
    volume: int
    overdue: int
    backlog_growth: int
    score: float  # log2 of the decisive ratio
    p_value: float
    q_value: float = 1.0
    message_en: str = ""
    message_vi: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class _Test:
    """One hypothesis test before false-discovery control."""

    handler: str
    metric: str
    stage: str | None
    against: str  # "peers", "history" or "backlog"
    ratio: float
    p_value: float
    q_value: float = 1.0
    detail: dict = field(default_factory=dict)


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """BH-adjusted q-values, in the input order."""
    if not p_values:
        return []
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty_like(q_sorted)
    q[order] = np.minimum(q_sorted, 1.0)
    return q.tolist()


def peer_tests(samples: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Each unit's median log ratio against its peers', allowing for the natural spread between units.

    A random-effects view: unit medians scatter around the peers' centre by the between-unit
    spread tau (natural differences in pace) plus their own sampling error, which is large for
    a small unit (1.2533 · within-unit spread / sqrt(n), the standard error of a median). Both
    spreads are estimated robustly (median absolute deviations), so a few slow units do not mask
    themselves. Returns unit → (ratio to the peers' centre, one-sided normal p-value).
    """
    medians = {h: float(np.median(x)) for h, x in samples.items()}
    within = np.median(np.concatenate([np.abs(x - medians[h]) for h, x in samples.items()])) * MAD_SCALE
    se2 = {h: (MEDIAN_SE * within) ** 2 / len(x) for h, x in samples.items()}
    values = np.array(list(medians.values()))
    centre = float(np.median(values))
    spread2 = (np.median(np.abs(values - centre)) * MAD_SCALE) ** 2
    tau2 = max(spread2 - float(np.median(list(se2.values()))), MIN_TAU**2)
    return {
        h: (float(np.exp(m - centre)), float(stats.norm.sf((m - centre) / np.sqrt(tau2 + se2[h]))))
        for h, m in medians.items()
    }


def shift_test(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Ratio of medians (x over y, on log values) and the one-sided Mann-Whitney p-value that x is larger.

    The normal approximation with tie and continuity corrections, as ``scipy.stats.mannwhitneyu(x, y,
    alternative="greater", method="asymptotic")`` computes it, without its per-call overhead (the scan
    runs about a thousand of these per detection).
    """
    ratio = float(np.exp(np.median(x) - np.median(y)))
    n1, n2 = len(x), len(y)
    n = n1 + n2
    ranks = stats.rankdata(np.concatenate([x, y]))
    u = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2.0
    _, ties = np.unique(ranks, return_counts=True)
    variance = n1 * n2 / 12.0 * ((n + 1) - float((ties**3 - ties).sum()) / (n * (n - 1)))
    if variance <= 0:
        return ratio, 1.0  # all values tied: no evidence
    return ratio, float(stats.norm.sf((u - n1 * n2 / 2.0 - 0.5) / np.sqrt(variance)))


@dataclass
class Inputs:
    """The rows the tests run on, as the three ``bottleneck_*`` queries and the handler names return them."""

    stages: pd.DataFrame
    backlog: pd.DataFrame
    inflow: pd.DataFrame
    names: dict


async def detect_bottlenecks(conn: AsyncConnection, *, now: datetime | None = None,
                             settings: BottleneckSettings | None = None) -> list[Flag]:  # fmt: skip
    """Flags as of ``now``, most significant first."""
    cfg = settings or BottleneckSettings()
    inputs = await fetch_inputs(conn, now=now or datetime.now().astimezone(), settings=cfg)
    # Seconds of pandas and scipy at national scale: in a thread, so the process's other requests go on.
    return await asyncio.to_thread(find_bottlenecks, inputs, cfg)


async def fetch_inputs(conn: AsyncConnection, *, now: datetime, settings: BottleneckSettings) -> Inputs:
    """The detector's rows as of ``now`` (the periods ``settings`` asks for)."""
    cfg = settings
    lookback = timedelta(days=max(cfg.onsets) + cfg.history_days)
    bounds = {"since": now - lookback, "now": now, "start": now - timedelta(days=cfg.window_days),
              "days": cfg.growth_days, "steps": cfg.growth_periods}  # fmt: skip
    async with conn.cursor() as cur:  # tuples: one row per report and stage, many thousands
        await cur.execute(load_sql("analytics/bottleneck_stages"), bounds)
        stages = pd.DataFrame(await cur.fetchall(), columns=["handler", "handler_kind", "category", "stage",
                                                              "received_ago", "entered_ago", "left_ago"])  # fmt: skip
        await cur.execute(load_sql("analytics/bottleneck_backlog"), bounds)
        backlog = pd.DataFrame(await cur.fetchall(), columns=["handler", "handler_kind", "category", "received",
                                                               "recent_overdue", "open_now", "overdue",
                                                               "open_at_start"])  # fmt: skip
        await cur.execute(load_sql("analytics/bottleneck_overdue_inflow"), bounds)
        inflow = pd.DataFrame(await cur.fetchall(), columns=["handler", "k", "fell_overdue"])
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("analytics/handler_names"))
        names = {r["handler"]: r for r in await cur.fetchall()}
    return Inputs(stages, backlog, inflow, names)


def find_bottlenecks(inputs: Inputs, cfg: BottleneckSettings) -> list[Flag]:
    """The tests on the detector's rows, false-discovery control, flags."""
    tests = _dwell_tests(inputs.stages, cfg) + _overdue_tests(inputs.backlog, cfg) + _growth_tests(inputs.inflow, cfg)
    for test, q in zip(tests, benjamini_hochberg([t.p_value for t in tests]), strict=True):
        test.q_value = q
    passed = [t for t in tests if t.q_value <= cfg.alpha and t.ratio >= cfg.min_ratio]
    flags = _explain(passed, inputs.backlog, inputs.names, cfg)
    return sorted(flags, key=lambda f: (f.q_value, -f.score))


def _log_hours(stages: pd.DataFrame, cut_ago: float) -> np.ndarray:
    """Natural log of the hours each stage lasted as seen ``cut_ago`` days before now (running: its age then)."""
    left = stages["left_ago"].to_numpy(dtype=float, na_value=-np.inf)
    days = stages["entered_ago"].to_numpy(dtype=float) - np.maximum(left, cut_ago)
    return np.log(np.maximum(days * 24.0, MIN_HOURS))


def _relative(period: pd.DataFrame) -> pd.DataFrame:
    """A period's log ratios minus the median of all its reports in the same stage (every handler)."""
    median = period.groupby("stage", observed=True)["log_ratio"].transform("median")
    return period.assign(log_ratio=period["log_ratio"] - median)


def _dwell_tests(stages: pd.DataFrame, cfg: BottleneckSettings) -> list[_Test]:
    """One test per (handler, stage): its most significant onset (own history if it has one, else peers)."""
    if stages.empty:
        return []
    data = stages.astype({c: "category" for c in ("handler", "handler_kind", "category", "stage")})
    data["log_ratio"] = _log_hours(data, 0.0)
    data["hours"] = np.exp(data["log_ratio"])
    data["log_ratio"] -= data.groupby(["category", "stage"], observed=True)["log_ratio"].transform("median")
    received = data["received_ago"].to_numpy()
    entered = data["entered_ago"].to_numpy()
    found: dict[tuple[str, str], list[_Test]] = {}
    for onset in sorted(cfg.onsets):
        recent = data[received < onset]
        before = data[(received >= onset) & (received < onset + cfg.history_days) & (entered > onset)]
        # The period before the onset as seen at its own end, as the recent one is seen now.
        shift = _log_hours(before, float(onset)) - _log_hours(before, 0.0)
        before = before.assign(log_ratio=before["log_ratio"].to_numpy() + shift)
        # Each period relative to the whole city then: a slow season for everyone is no unit's bottleneck.
        recent, before = _relative(recent), _relative(before)
        pasts = dict(iter(before.groupby(["handler_kind", "stage"], observed=True)))
        for key, group in recent.groupby(["handler_kind", "stage"], observed=True):
            past = pasts.get(key, before.iloc[:0])
            for test in _onset_tests(group, past, str(key[1]), onset, cfg):
                found.setdefault((test.handler, str(key[1])), []).append(test)
    tests = []
    for candidates in found.values():
        # A unit with a past is judged against it at every onset: the peers alone decide only for a new unit
        # (otherwise a unit slow by nature would be flagged at the onsets its short history does not reach).
        if any(t.against == "history" for t in candidates):
            candidates = [t for t in candidates if t.against == "history"]
        strong = [t for t in candidates if t.ratio >= cfg.min_ratio] or candidates
        best = min(strong, key=lambda t: t.p_value)
        best.p_value = min(1.0, best.p_value * len(cfg.onsets))
        best.detail["onsets_tried"] = len(cfg.onsets)
        tests.append(best)
    return tests


def _onset_tests(group: pd.DataFrame, past: pd.DataFrame, stage: str, onset: int,
                 cfg: BottleneckSettings) -> list[_Test]:  # fmt: skip
    """Peer and own-history tests of one (kind, stage) group for the reports of the last ``onset`` days."""
    window = {h: x.to_numpy() for h, x in group.groupby("handler", observed=True)["log_ratio"]}
    history = {h: x.to_numpy() for h, x in past.groupby("handler", observed=True)["log_ratio"]}
    need = max(cfg.min_volume, cfg.min_volume * cfg.volume_days / onset)
    tested = {h: x for h, x in window.items() if len(x) >= need}
    # Peers compare on the categories they share: a department alone with its categories has none.
    shared = (group.groupby("category", observed=True)["handler"].transform("nunique") > 1).to_numpy()
    raw = group.loc[shared]
    comparable = {h: x.to_numpy() for h, x in raw.groupby("handler", observed=True)["log_ratio"]
                  if len(x) >= cfg.min_volume}  # fmt: skip
    peers = peer_tests(comparable) if len(comparable) > MIN_PEERS else {}
    hours = group.groupby("handler", observed=True)["hours"].median()
    tests = []
    for handler, mine in tested.items():
        before = history.get(handler)
        own = shift_test(mine, before) if before is not None and len(before) >= cfg.min_volume else None
        vs_peers = peers.get(handler)
        if own is None and vs_peers is None:
            continue
        # The decisive comparison: against its own past when there is one, else the gap to its peers.
        ratio, p_value = own if own is not None else vs_peers if vs_peers is not None else (1.0, 1.0)
        if own is not None and vs_peers is not None and vs_peers[0] < 1.0:
            ratio = 1.0  # got slower but still quicker than its peers: not where work piles up
        detail = {
            "onset_days": onset,
            "median_hours": float(hours[handler]),
            "peer_ratio": vs_peers[0] if vs_peers else None,
            "peer_p": vs_peers[1] if vs_peers else None,
            "history_ratio": own[0] if own else None,
            "history_p": own[1] if own else None,
            "volume": len(mine),
        }
        tests.append(_Test(str(handler), "stage_dwell", stage, "history" if own else "peers", ratio, p_value,
                           detail=detail))  # fmt: skip
    return tests


def _overdue_tests(backlog: pd.DataFrame, cfg: BottleneckSettings) -> list[_Test]:
    """Overdue reports of the window against the peers' overdue share per category (Poisson, with exposure)."""
    tests = []
    for _, group in backlog.groupby("handler_kind"):
        per_category = group.groupby("category")[["received", "recent_overdue"]].sum()
        handlers = group.groupby("handler")["received"].sum()
        tested = handlers[handlers >= cfg.min_volume].index
        if len(tested) <= MIN_PEERS:
            continue
        for handler in tested:
            mine = group[group["handler"] == handler].set_index("category")
            peers = per_category.sub(mine[["received", "recent_overdue"]], fill_value=0)
            # Only categories the peers handle too: a department alone with its categories has no peers.
            mine = mine[mine.index.isin(peers.index[peers["received"] >= cfg.min_volume])]
            if mine["received"].sum() < cfg.min_volume:
                continue
            share = peers["recent_overdue"] / peers["received"]
            # Half a report of slack: a handler whose peers have no overdue work is not flagged for one.
            expected = max(float((mine["received"] * share.reindex(mine.index)).sum()), 0.5)
            observed = int(mine["recent_overdue"].sum())
            if observed - expected < cfg.min_excess:
                continue
            p_value = float(stats.poisson.sf(observed - 1, expected))
            detail = {"observed": observed, "expected": expected, "received": int(mine["received"].sum())}
            tests.append(_Test(str(handler), "overdue", None, "peers", observed / expected, p_value, detail=detail))
    return tests


def _growth_tests(inflow: pd.DataFrame, cfg: BottleneckSettings) -> list[_Test]:
    """Reports fallen overdue and still open in the latest period against the handler's usual pace (Poisson tail)."""
    tests = []
    table = inflow.pivot_table(index="handler", columns="k", values="fell_overdue", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=range(cfg.growth_periods + 1), fill_value=0)
    for handler, row in table.iterrows():
        latest, usual = int(row[0]), float(row[1:].mean())
        # At least min_volume more than usual: a handful more overdue reports is not a pile-up.
        if latest - usual < cfg.min_volume:
            continue
        expected = max(usual, 0.5)
        p_value = float(stats.poisson.sf(latest - 1, expected))
        detail = {"observed": latest, "usual": usual, "days": cfg.growth_days, "periods": cfg.growth_periods}
        tests.append(_Test(str(handler), "backlog_growth", None, "backlog", latest / expected, p_value,
                           detail=detail))  # fmt: skip
    return tests


def _days(hours: float) -> str:
    return f"{hours / 24:.1f}"


def _explain(passed: list[_Test], backlog: pd.DataFrame, names: dict, cfg: BottleneckSettings) -> list[Flag]:
    """Flags for the tests that passed, each with its comparisons in words and numbers."""
    counts = ["open_now", "overdue", "open_at_start"]
    totals = backlog.groupby(["handler", "handler_kind"])[counts].sum().reset_index("handler_kind")
    flags = []
    for test in passed:
        name = names.get(test.handler, {"name_vi": test.handler, "name_en": test.handler})
        info = totals.loc[test.handler] if test.handler in totals.index else None
        overdue = int(info["overdue"]) if info is not None else 0
        growth = int(info["open_now"] - info["open_at_start"]) if info is not None else 0
        kind = str(info["handler_kind"]) if info is not None else ""
        common = dict(handler=test.handler, handler_kind=kind, name_vi=name["name_vi"], name_en=name["name_en"],
                      metric=test.metric, stage=test.stage, overdue=overdue, backlog_growth=growth,
                      score=float(np.log2(test.ratio)), p_value=test.p_value, q_value=test.q_value,
                      extra={"against": test.against, **test.detail})  # fmt: skip
        if test.metric == "overdue":
            received, observed, expected = (test.detail[k] for k in ("received", "observed", "expected"))
            flags.append(Flag(
                **common, value=observed, peer_value=expected, own_history=None, volume=received,
                message_en=f"{name['name_en']}: {observed} of {received} reports of the period overdue and still "
                f"open, {expected:.1f} expected at the peers' rate; {overdue} overdue in all",
                message_vi=f"{name['name_vi']}: {observed}/{received} phản ánh trong kỳ quá hạn chưa xử lý xong, "
                f"dự kiến {expected:.1f} theo tỷ lệ đơn vị cùng cấp; tổng {overdue} hồ sơ quá hạn",
            ))  # fmt: skip
            continue
        if test.metric == "backlog_growth":
            observed, usual, days = (test.detail[k] for k in ("observed", "usual", "days"))
            flags.append(Flag(
                **common, value=observed, peer_value=float("nan"), own_history=usual, volume=observed,
                message_en=f"{name['name_en']}: {observed} reports fell overdue in the last {days} days and are "
                f"still open, {usual:.1f} in a usual {days} days before; {overdue} overdue in all",
                message_vi=f"{name['name_vi']}: {observed} phản ánh quá hạn trong {days} ngày qua chưa xử lý xong, "
                f"thường {usual:.1f} mỗi {days} ngày trước đó; tổng {overdue} hồ sơ quá hạn",
            ))  # fmt: skip
            continue
        stage = str(test.stage)
        value = test.detail["median_hours"]
        peer_ratio, history_ratio = test.detail["peer_ratio"], test.detail["history_ratio"]
        onset = test.detail["onset_days"]
        # The median the handler would have at its peers' pace (its own before) for the same categories.
        peer_value = value / peer_ratio if peer_ratio else value
        own = value / history_ratio if history_ratio else None
        vi_stage, en_stage = STAGE_NAMES[stage]
        against_en = [f"{_days(peer_value)} for peers"] if peer_ratio else []
        against_vi = [f"{_days(peer_value)} của đơn vị cùng cấp"] if peer_ratio else []
        if own is not None:
            before = "the year" if cfg.history_days == 365 else f"the {cfg.history_days} days"
            against_en.append(f"{_days(own)} in {before} before")
            against_vi.append(f"{_days(own)} trong {cfg.history_days} ngày trước đó")
        flags.append(Flag(
            **common, value=value, peer_value=peer_value, own_history=own, volume=test.detail["volume"],
            message_en=f"{name['name_en']}: '{en_stage}' stage median {_days(value)} days over the last {onset} days "
            f"vs {' and '.join(against_en)}, {overdue} overdue",
            message_vi=f"{name['name_vi']}: giai đoạn '{vi_stage}' trung vị {_days(value)} ngày trong {onset} ngày "
            f"qua so với {' và '.join(against_vi)}, {overdue} hồ sơ quá hạn",
        ))  # fmt: skip
    return flags


def flag_to_dict(flag: Flag) -> dict:
    """JSON-ready form of a flag (JSON has no NaN: a backlog-growth flag's ``peer_value`` is null)."""
    return _finite(asdict(flag))


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float (in dicts, at any depth) made None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value
