"""Bottleneck detection: which units and workflow stages pile up work, and why.

A *handler* is the unit that owns a report's category: the ward/commune for ward-level
categories, the city department for city-level ones. For every handler and workflow stage
(received, assigned, in_progress) the detector takes the hours each report spent in the stage
and divides them by the window's median for that category and stage, so a department whose
categories have long deadlines is not "slow" and a ward's mix of categories does not matter.
On these per-report log ratios it makes two comparisons:

* **Own history**: the handler's reports in the window against its own reports of the year
  before, one-sided Mann-Whitney test. A unit that got slower; the only comparison a department
  has, since no other department handles its categories.
* **Peers**: the handler's median against those of the other handlers of its kind (wards,
  communes) on the categories they share, as a random-effects z-score: the gap is divided by the
  natural spread between units plus the handler's own sampling error, both estimated robustly
  (median absolute deviations), so small units are judged with their uncertainty and naturally
  a bit slower units are not outliers.

The two p-values of a (handler, stage) are combined with Fisher's method. A third test, **overdue
work**, compares the handler's reports of the window that are open and overdue now with the count
expected from its peers' overdue share per category (one-sided Poisson tail with that exposure).

Only (handler, stage) pairs with at least ``min_volume`` reports (in both periods for the history
comparison) are tested. The p-values of all tests together are adjusted with Benjamini-Hochberg
(false-discovery rate ``alpha``), and a flag also needs a practical effect of ``min_ratio``: the
handler's median is that many times its own of the year before (and not below its peers'), or,
without enough history, that many times its peers'. A unit that was always slow but got no slower
is therefore not flagged. Each flag says why in words and numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

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

    window_days: int = 180
    history_days: int = 365
    min_volume: int = 8
    min_ratio: float = 2.0
    alpha: float = 0.01

    def __post_init__(self) -> None:
        if self.window_days < 7 or self.history_days < 0 or self.min_volume < 1:
            raise InvalidInput("window_days >= 7, history_days >= 0 and min_volume >= 1 are required")
        if not 0 < self.alpha < 1 or self.min_ratio < 1:
            raise InvalidInput("alpha must be in (0, 1) and min_ratio >= 1")


@dataclass
class Flag:
    """One detected bottleneck."""

    handler: str
    handler_kind: str
    name_vi: str
    name_en: str
    metric: str  # "stage_dwell" or "overdue"
    stage: str | None
    value: float  # median hours in the stage (overdue: overdue reports of the window)
    peer_value: float  # the same at the peers' pace for the handler's categories (overdue: expected count)
    own_history: float | None  # the same at the handler's own pace a year before
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
    against: str  # "peers" or "history"
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
    """Ratio of medians (x over y, on log values) and the one-sided Mann-Whitney p-value that x is larger."""
    ratio = float(np.exp(np.median(x) - np.median(y)))
    p_value = float(stats.mannwhitneyu(x, y, alternative="greater", method="asymptotic").pvalue)
    return ratio, p_value if np.isfinite(p_value) else 1.0  # all values tied: no evidence


async def detect_bottlenecks(conn: AsyncConnection, *, now: datetime | None = None,
                             settings: BottleneckSettings | None = None) -> list[Flag]:  # fmt: skip
    """Flags for the window ending at ``now``, most significant first."""
    cfg = settings or BottleneckSettings()
    now = now or datetime.now().astimezone()
    start = now - timedelta(days=cfg.window_days)
    bounds = {"history_start": start - timedelta(days=cfg.history_days), "start": start, "now": now}
    async with conn.cursor() as cur:  # tuples: one row per report and stage, many thousands
        await cur.execute(load_sql("analytics/bottleneck_dwell"), bounds)
        dwell = pd.DataFrame(await cur.fetchall(), columns=["handler", "handler_kind", "category", "stage", "recent",
                                                             "hours"])  # fmt: skip
        await cur.execute(load_sql("analytics/bottleneck_backlog"), bounds)
        backlog = pd.DataFrame(await cur.fetchall(), columns=["handler", "handler_kind", "category", "received",
                                                               "recent_overdue", "open_now", "overdue",
                                                               "open_at_start"])  # fmt: skip
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("analytics/handler_names"))
        names = {r["handler"]: r for r in await cur.fetchall()}

    tests = _dwell_tests(dwell, cfg) + _overdue_tests(backlog, cfg)
    for test, q in zip(tests, benjamini_hochberg([t.p_value for t in tests]), strict=True):
        test.q_value = q
    passed = [t for t in tests if t.q_value <= cfg.alpha and t.ratio >= cfg.min_ratio]
    flags = _explain(passed, dwell, backlog, names)
    return sorted(flags, key=lambda f: (f.q_value, -f.score))


def _log_ratios(dwell: pd.DataFrame) -> pd.DataFrame:
    """Each stage's hours over the window's median for its category and stage (natural log)."""
    hours = dwell["hours"].clip(lower=MIN_HOURS)
    logs = np.log(hours)
    recent = dwell["recent"].astype(bool)
    baseline = logs[recent].groupby([dwell["category"], dwell["stage"]]).median()
    keys = pd.MultiIndex.from_frame(dwell[["category", "stage"]])
    expected = baseline.reindex(keys).to_numpy()
    return dwell.assign(hours=hours, log_ratio=logs.to_numpy() - expected).dropna(subset=["log_ratio"])


def _dwell_tests(dwell: pd.DataFrame, cfg: BottleneckSettings) -> list[_Test]:
    """One test per (handler, stage): Fisher's combination of the peer and own-history comparisons."""
    if dwell.empty:
        return []
    data = _log_ratios(dwell)
    tests = []
    for _, group in data.groupby(["handler_kind", "stage"]):
        stage = str(group["stage"].iloc[0])
        recent = group["recent"].astype(bool)
        window = {h: g.to_numpy() for h, g in group.loc[recent, "log_ratio"].groupby(group.loc[recent, "handler"])}
        before = {h: g.to_numpy() for h, g in group.loc[~recent, "log_ratio"].groupby(group.loc[~recent, "handler"])}
        tested = {h: x for h, x in window.items() if len(x) >= cfg.min_volume}
        # Peers compare on the categories they share: a department alone with its categories has none.
        shared = group[recent & (group.groupby("category")["handler"].transform("nunique") > 1)]
        comparable = {h: g.to_numpy() for h, g in shared.groupby("handler")["log_ratio"] if len(g) >= cfg.min_volume}
        peers = peer_tests(comparable) if len(comparable) > MIN_PEERS else {}
        for handler, mine in tested.items():
            history = before.get(handler)
            own = shift_test(mine, history) if history is not None and len(history) >= cfg.min_volume else None
            vs_peers = peers.get(handler)
            if own is None and vs_peers is None:
                continue
            p_values = [c[1] for c in (own, vs_peers) if c is not None]
            p_value = p_values[0] if len(p_values) == 1 else float(stats.combine_pvalues(p_values).pvalue)
            # The decisive effect: the change against its own past when there is one, else the gap to its peers.
            ratio = own[0] if own is not None else vs_peers[0] if vs_peers is not None else 1.0
            if own is not None and vs_peers is not None and vs_peers[0] < 1.0:
                ratio = 1.0  # got slower but still quicker than its peers: not where work piles up
            detail = {
                "peer_ratio": vs_peers[0] if vs_peers else None,
                "peer_p": vs_peers[1] if vs_peers else None,
                "history_ratio": own[0] if own else None,
                "history_p": own[1] if own else None,
                "volume": len(mine),
            }
            tests.append(_Test(handler, "stage_dwell", stage, "history" if own else "peers", ratio, p_value,
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
            p_value = float(stats.poisson.sf(observed - 1, expected))
            detail = {"observed": observed, "expected": expected, "received": int(mine["received"].sum())}
            tests.append(_Test(str(handler), "overdue", None, "peers", observed / expected, p_value, detail=detail))
    return tests


def _days(hours: float) -> str:
    return f"{hours / 24:.1f}"


def _explain(passed: list[_Test], dwell: pd.DataFrame, backlog: pd.DataFrame, names: dict) -> list[Flag]:
    """Flags for the tests that passed, each with its comparisons in words and numbers."""
    counts = ["open_now", "overdue", "open_at_start"]
    totals = backlog.groupby(["handler", "handler_kind"])[counts].sum().reset_index("handler_kind")
    recent = dwell[dwell["recent"].astype(bool)]
    medians = recent.groupby(["handler", "stage"])["hours"].median()
    kinds = dwell.drop_duplicates("handler").set_index("handler")["handler_kind"]
    flags = []
    for test in passed:
        name = names.get(test.handler, {"name_vi": test.handler, "name_en": test.handler})
        info = totals.loc[test.handler] if test.handler in totals.index else None
        overdue = int(info["overdue"]) if info is not None else 0
        growth = int(info["open_now"] - info["open_at_start"]) if info is not None else 0
        kind = str(info["handler_kind"]) if info is not None else str(kinds.get(test.handler, ""))
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
        stage = str(test.stage)
        value = float(medians[(test.handler, stage)])
        peer_ratio, history_ratio = test.detail["peer_ratio"], test.detail["history_ratio"]
        # The median the handler would have at its peers' pace (its own a year before) for the same categories.
        peer_value = value / peer_ratio if peer_ratio else value
        own = value / history_ratio if history_ratio else None
        vi_stage, en_stage = STAGE_NAMES[stage]
        against_en = [f"{_days(peer_value)} for peers"] if peer_ratio else []
        against_vi = [f"{_days(peer_value)} của đơn vị cùng cấp"] if peer_ratio else []
        if own is not None:
            against_en.append(f"{_days(own)} a year before")
            against_vi.append(f"{_days(own)} một năm trước")
        flags.append(Flag(
            **common, value=value, peer_value=peer_value, own_history=own, volume=test.detail["volume"],
            message_en=f"{name['name_en']}: '{en_stage}' stage median {_days(value)} days vs "
            f"{' and '.join(against_en)}, {overdue} overdue",
            message_vi=f"{name['name_vi']}: giai đoạn '{vi_stage}' trung vị {_days(value)} ngày so với "
            f"{' và '.join(against_vi)}, {overdue} hồ sơ quá hạn",
        ))  # fmt: skip
    return flags


def flag_to_dict(flag: Flag) -> dict:
    """JSON-ready form of a flag."""
    return asdict(flag)
