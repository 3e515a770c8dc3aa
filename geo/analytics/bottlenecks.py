"""Bottleneck detection: which units and workflow stages pile up work, and why.

Two tests per handler (a ward/commune, or a city department for city-level reports):

* **Stage dwell**: the handler's median hours in a stage (received, assigned, in_progress) is
  compared with peers of the same kind (wards with wards, communes with communes, departments
  with departments) by a robust z-score on log hours: (log m - median of peers) / (1.4826 · MAD).
  The one-sided normal tail gives a p-value.
* **Overdue work**: the handler's overdue open reports against a binomial with the peers' pooled
  overdue share (one-sided tail).

Only handlers with at least ``min_volume`` reports in the stage (or open) are tested; p-values of
all tests are adjusted together with Benjamini-Hochberg (false-discovery rate ``alpha``), and a
flag also needs a practical effect (``min_ratio`` times the peers). Each flag says why in words
and numbers, and compares with the handler's own previous year.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import numpy as np
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
MAD_SCALE = 1.4826  # makes the MAD a consistent estimator of the standard deviation


@dataclass(frozen=True)
class BottleneckSettings:
    """Detection parameters (defaults tuned on generated histories: bench/bottlenecks.py)."""

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
    value: float
    peer_value: float
    own_history: float | None
    volume: int
    overdue: int
    backlog_growth: int
    score: float
    p_value: float
    q_value: float = 1.0
    message_en: str = ""
    message_vi: str = ""
    extra: dict = field(default_factory=dict)


def _robust_z(values: np.ndarray) -> np.ndarray:
    """Robust z-scores of log values against their own median and MAD (NaN-free input)."""
    logs = np.log(np.maximum(values, 1e-3))
    centre = np.median(logs)
    mad = np.median(np.abs(logs - centre)) * MAD_SCALE
    return (logs - centre) / max(mad, 0.05)  # floor: identical peers must not make tiny gaps infinite


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


def _days(hours: float) -> str:
    return f"{hours / 24:.1f}"


async def detect_bottlenecks(conn: AsyncConnection, *, now: datetime | None = None,
                             settings: BottleneckSettings | None = None) -> list[Flag]:  # fmt: skip
    """Flags for the window ending at ``now``, most significant first."""
    cfg = settings or BottleneckSettings()
    now = now or datetime.now().astimezone()
    start = now - timedelta(days=cfg.window_days)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("analytics/stage_dwell"), {"start": start, "end": now, "now": now})
        dwell = await cur.fetchall()
        await cur.execute(load_sql("analytics/stage_dwell"),
                          {"start": start - timedelta(days=cfg.history_days), "end": start, "now": start})  # fmt: skip
        history = {(r["handler"], r["stage"]): r["median_hours"] for r in await cur.fetchall()}
        await cur.execute(load_sql("analytics/handler_backlog"), {"start": start, "now": now})
        backlog = {r["handler"]: r for r in await cur.fetchall()}
        await cur.execute(load_sql("analytics/handler_names"))
        names = {r["handler"]: r for r in await cur.fetchall()}

    flags = _dwell_flags(dwell, history, backlog, names, cfg) + _overdue_flags(backlog, names, cfg)
    for flag, q in zip(flags, benjamini_hochberg([f.p_value for f in flags]), strict=True):
        flag.q_value = q
    kept = [f for f in flags if f.q_value <= cfg.alpha and f.value >= cfg.min_ratio * max(f.peer_value, 1e-9)]
    return sorted(kept, key=lambda f: (f.q_value, -f.score))


def _dwell_flags(rows: list[dict], history: dict, backlog: dict, names: dict, cfg: BottleneckSettings) -> list[Flag]:
    flags = []
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        if row["n"] >= cfg.min_volume:
            groups.setdefault((row["handler_kind"], row["stage"]), []).append(row)
    for (kind, stage), members in groups.items():
        if len(members) < 4:  # too few peers for a robust spread
            continue
        medians = np.array([m["median_hours"] for m in members], dtype=float)
        scores = _robust_z(medians)
        peer_median = float(np.median(medians))
        for member, z in zip(members, scores, strict=True):
            handler = member["handler"]
            info = backlog.get(handler, {})
            name = names.get(handler, {"name_vi": handler, "name_en": handler})
            own = history.get((handler, stage))
            vi_stage, en_stage = STAGE_NAMES[stage]
            value = float(member["median_hours"])
            overdue = int(info.get("overdue", 0))
            flags.append(
                Flag(
                    handler=handler, handler_kind=kind, name_vi=name["name_vi"], name_en=name["name_en"],
                    metric="stage_dwell", stage=stage, value=value, peer_value=peer_median,
                    own_history=float(own) if own is not None else None, volume=int(member["n"]), overdue=overdue,
                    backlog_growth=int(info.get("open_now", 0)) - int(info.get("open_at_start", 0)),
                    score=float(z), p_value=float(stats.norm.sf(z)),
                    message_en=f"{name['name_en']}: '{en_stage}' stage median {_days(value)} days vs "
                    f"{_days(peer_median)} for peers"
                    + (f" ({_days(float(own))} a year before)" if own is not None else "")
                    + f", {overdue} overdue",
                    message_vi=f"{name['name_vi']}: giai đoạn '{vi_stage}' trung vị {_days(value)} ngày so với "
                    f"{_days(peer_median)} của đơn vị cùng cấp, {overdue} hồ sơ quá hạn",
                )
            )  # fmt: skip
    return flags


def _overdue_flags(backlog: dict, names: dict, cfg: BottleneckSettings) -> list[Flag]:
    flags = []
    by_kind: dict[str, list[dict]] = {}
    for row in backlog.values():
        if row["open_now"] >= cfg.min_volume:
            by_kind.setdefault(row["handler_kind"], []).append(row)
    for kind, members in by_kind.items():
        total_open = sum(m["open_now"] for m in members)
        total_overdue = sum(m["overdue"] for m in members)
        for member in members:
            peers_open = total_open - member["open_now"]
            if peers_open <= 0:
                continue
            peer_share = (total_overdue - member["overdue"]) / peers_open
            share = member["overdue"] / member["open_now"]
            p_value = float(stats.binom.sf(member["overdue"] - 1, member["open_now"], max(peer_share, 1e-6)))
            handler = member["handler"]
            name = names.get(handler, {"name_vi": handler, "name_en": handler})
            flags.append(
                Flag(
                    handler=handler, handler_kind=kind, name_vi=name["name_vi"], name_en=name["name_en"],
                    metric="overdue", stage=None, value=share, peer_value=peer_share, own_history=None,
                    volume=int(member["open_now"]), overdue=int(member["overdue"]),
                    backlog_growth=int(member["open_now"]) - int(member["open_at_start"]),
                    score=share / max(peer_share, 1e-6), p_value=p_value,
                    message_en=f"{name['name_en']}: {member['overdue']} of {member['open_now']} open reports overdue "
                    f"({share:.0%} vs {peer_share:.0%} for peers)",
                    message_vi=f"{name['name_vi']}: {member['overdue']}/{member['open_now']} phản ánh quá hạn "
                    f"({share:.0%} so với {peer_share:.0%} của đơn vị cùng cấp)",
                )
            )  # fmt: skip
    return flags


def flag_to_dict(flag: Flag) -> dict:
    """JSON-ready form of a flag."""
    return asdict(flag)
