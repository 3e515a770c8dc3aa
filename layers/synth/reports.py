"""A realistic, seeded history of Hue-S citizen field reports (2019 → ``until``), without a database.

What the history reproduces, and how:

* **Where**: each ward/commune gets reports in proportion to its population times a reporting
  rate of its type (old-city core, urban phường, rural, coastal or mountain xã); points are drawn
  from the context's settlement density model on the ward's *land* (never in the lagoon or sea).
* **When**: adoption of the Hue-S app (a logistic rise from 2019 to a plateau from 2022), a weekly
  rhythm (busy Mondays, quiet Sundays), a daily one (office hours peak, few reports at night;
  noise peaks in the evening), the Tết holiday lull, and COVID-19 for tourism complaints.
* **What**: a category mix per ward type (sidewalk encroachment, noise and tourism in the core;
  roads, drainage and electricity in the countryside); weather categories surge every
  October–November and in the days after a real storm of the ``storm_tracks`` layer passed near
  Huế (JTWC best tracks end in 2021: later years have the seasonal surge only).
* **Repeats**: a share of reports are near-repeats of an earlier one (same spot within metres,
  hours to weeks later), most often for chronic problems (dumping spots, waterlogging, karaoke);
  some spots repeat many times (heavy-tailed propensity), like a self-exciting point process.
* **Outcomes**: see :mod:`layers.synth.report_outcomes` (on-time share per year calibrated, per-unit
  differences, explicitly injected slow units recorded in the manifest).
* **Hotline**: 31,660 inbound and 6,279 outbound calls scaled to ``count``; the inbound calls that
  produced a report are linked to it (channel ``hotline``).

Reporter identity: only clearly fake placeholder rows (``…@example.invalid``, no phone number) for
``reporter_share`` of the reports, so privacy tests have something to look for; hotline calls carry
no caller number.

Geometry work is in metres in EPSG:32648 (UTM 48N); the output is EPSG:4326. Instants are UTC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.reports.catalogue import ESCALATION_DEPARTMENT, read_catalogue
from geo.reports.intake import CODE_ALPHABET, CODE_LENGTH
from layers.synth import report_outcomes as outcomes
from layers.synth import report_texts as texts
from layers.synth.context import WGS84, SynthContext, WardModel, to_utm, to_wgs84
from layers.synth.report_calendar import DAY_S, ICT_OFFSET_S, WorkCalendar, day_start, local_day
from layers.synth.sampling import sample_points

HISTORY_START = date(2019, 1, 1)
# A fixed end keeps the default history identical on every machine and every day.
DEFAULT_UNTIL = date(2026, 11, 1)
DEFAULT_COUNT = 183_000
SEED_OFFSET = 313
# Huế's published totals: 183,000 field reports; hotline 1900 1075: 31,660 calls in, 6,279 out.
HUE_REPORTS, HUE_CALLS_IN, HUE_CALLS_OUT = 183_000, 31_660, 6_279
HOTLINE_CALLS_FILING = 0.45  # inbound calls that produce a report (the rest ask, follow up, advise)
SLOW_STAGES = ("assigned", "in_progress")
ICT = "Asia/Ho_Chi_Minh"

WARD_TYPES = ("core", "urban", "rural", "coastal", "mountain")
# Reports per resident relative to each other: app adoption is highest in the old city.
REPORTING_RATE = {"core": 1.7, "urban": 1.1, "rural": 0.7, "coastal": 0.8, "mountain": 0.45}
# Category mix in percent by ward type (core, urban, rural, coastal, mountain).
CATEGORY_MIX: dict[str, tuple[float, float, float, float, float]] = {
    "garbage": (14, 16, 14, 16, 10),
    "sidewalk_encroachment": (17, 11, 3, 4, 1),
    "road_damage": (8, 10, 15, 12, 18),
    "street_lighting": (7, 9, 9, 9, 7),
    "drainage_flooding": (6, 8, 11, 12, 7),
    "fallen_tree": (4, 4, 4, 4, 6),
    "water_supply": (4, 5, 7, 8, 8),
    "electricity": (3, 4, 9, 8, 12),
    "construction_violation": (6, 9, 7, 6, 4),
    "noise": (9, 7, 3, 4, 2),
    "illegal_advertising": (5, 4, 1, 1, 1),
    "traffic_order": (6, 6, 4, 4, 3),
    "tourism_services": (6, 1, 0.5, 2, 1),
    "food_safety": (3, 3, 2, 2, 2),
    "other": (2, 3, 5, 5, 7),
}
UNKNOWN_CATEGORY_MIX = 2.0  # a category added to the catalogue later still gets some reports
TOURISM_SITES_PER_DOUBLING = 5  # a ward with 5 GeoNames tourism sites gets twice the tourism complaints …
TOURISM_SITES_CAP = 10  # … and the Imperial City's ward (39 sites) three times, not nine

# Weather: how strongly a category answers the surge index, and how exposed each ward type is.
SURGE_SENSITIVITY = {"drainage_flooding": 3.0, "fallen_tree": 3.0, "electricity": 1.0, "road_damage": 0.6,
                     "water_supply": 0.5, "garbage": 0.3}  # fmt: skip
FLOOD_EXPOSURE = {"core": 0.9, "urban": 1.0, "rural": 1.1, "coastal": 1.3, "mountain": 0.7}
# Seasonal surge index by month: the rainy season peaks in October-November.
SEASON = (0.15, 0.10, 0.05, 0.05, 0.15, 0.15, 0.15, 0.20, 0.50, 1.30, 1.20, 0.50)
STORM_RADIUS_KM = 300.0
STORM_AMPLITUDE = 2.0
STORM_DAYS = np.arange(-1, 11)
STORM_PULSE = np.where(STORM_DAYS < 0, 0.3, np.exp(-np.maximum(STORM_DAYS, 0) / 2.5))

# Monday … Sunday.
WEEKDAY = (1.12, 1.06, 1.02, 1.0, 0.97, 0.72, 0.62)
WEEKDAY_BY_CATEGORY = {"noise": (0.9, 0.9, 0.9, 0.95, 1.1, 1.35, 1.3),
                       "tourism_services": (0.9, 0.9, 0.9, 0.95, 1.05, 1.3, 1.3)}  # fmt: skip
# Hour of day (ICT) 0 … 23.
HOURLY = (0.3, 0.2, 0.15, 0.15, 0.25, 0.6, 1.4, 2.6, 3.6, 3.8, 3.6, 3.0,
          2.2, 2.0, 2.8, 3.2, 3.2, 2.9, 2.5, 2.6, 2.6, 2.2, 1.5, 0.8)  # fmt: skip
HOURLY_NOISE = (1.4, 0.9, 0.5, 0.3, 0.2, 0.3, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0,
                1.2, 1.2, 1.0, 1.0, 1.0, 1.2, 1.6, 2.6, 3.4, 3.8, 3.4, 2.4)  # fmt: skip
# Lunar New Year (mùng 1 Tết): the week around it is quiet, except for the rubbish it leaves.
TET = (date(2019, 2, 5), date(2020, 1, 25), date(2021, 2, 12), date(2022, 2, 1), date(2023, 1, 22),
       date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6), date(2028, 1, 26))  # fmt: skip
TET_FACTOR, TET_FACTOR_GARBAGE = 0.4, 0.9
# Closed borders and lockdowns: hardly any visitors to complain about touts.
COVID_TOURISM = (date(2020, 2, 1), date(2022, 3, 15), 0.3)
# Hue-S adoption: logistic rise centred mid-2020, plateau from 2022.
ADOPTION_FLOOR, ADOPTION_MID_YEAR, ADOPTION_WIDTH_YEARS = 0.12, 2020.5, 0.35

# Near-repeats: propensity of a category to recur at the same spot, gaps and spatial jitter.
CHRONIC = {"garbage": 1.5, "sidewalk_encroachment": 1.5, "drainage_flooding": 1.4, "noise": 1.4,
           "illegal_advertising": 1.0, "road_damage": 1.0, "street_lighting": 0.8, "traffic_order": 0.8,
           "water_supply": 0.6, "electricity": 0.6, "construction_violation": 0.6, "tourism_services": 0.6,
           "food_safety": 0.5, "fallen_tree": 0.3, "other": 0.3}  # fmt: skip
SPOT_PROPENSITY_SIGMA = 1.0  # lognormal spread: a few spots recur again and again
SAME_EVENT_SHARE, SAME_EVENT_MEAN_S = 0.25, 4 * 3600.0  # several people report one event within hours
RECUR_MEAN_DAYS = 11.0  # … or the problem comes back days to weeks later (at least a day)
REPEAT_JITTER_M = 15.0
REPEAT_SAME_CATEGORY = 0.95

# Point spread by category (1 = the ward's settlement kernels): order problems sit in the centres.
SPREAD = {"sidewalk_encroachment": 0.6, "noise": 0.7, "illegal_advertising": 0.6, "tourism_services": 0.6,
          "food_safety": 0.7, "traffic_order": 0.8, "road_damage": 1.3, "electricity": 1.3, "water_supply": 1.2,
          "drainage_flooding": 1.2, "street_lighting": 1.1, "fallen_tree": 1.2}  # fmt: skip
TOURISM_NEAR_SITE, TOURISM_SITE_RADIUS_M = 0.7, 150.0

PRIORITY = {  # P(low, normal, high, urgent)
    "fallen_tree": (0.0, 0.15, 0.60, 0.25),
    "electricity": (0.0, 0.50, 0.45, 0.05),
    "drainage_flooding": (0.0, 0.70, 0.25, 0.05),
    "traffic_order": (0.05, 0.75, 0.20, 0.0),
    "illegal_advertising": (0.70, 0.30, 0.0, 0.0),
    "other": (0.30, 0.70, 0.0, 0.0),
}
PRIORITY_DEFAULT = (0.05, 0.90, 0.05, 0.0)
PRIORITY_STORM = (0.0, 0.30, 0.50, 0.20)  # weather categories on surge days
PRIORITIES = ("low", "normal", "high", "urgent")
UNIT_SPEED_SIGMA, UNIT_REJECT_SIGMA, UNIT_RATING_SIGMA = 0.2, 0.3, 0.3
HOTLINE_OPERATORS = 12


@dataclass(frozen=True)
class Slowdown:
    """One unit made slower in one stage for reports received in ``[start, end)`` (a bottleneck to detect)."""

    unit: str
    stage: str = "in_progress"
    factor: float = 4.0
    start: date | None = None  # None: from the start of the history
    end: date | None = None  # None: to its end

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "stage": self.stage, "factor": self.factor,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None}  # fmt: skip


@dataclass(frozen=True)
class HistoryParams:
    """Everything that decides a generated history (and its checksum)."""

    count: int = DEFAULT_COUNT
    seed: int = 20251
    until: date = DEFAULT_UNTIL
    on_time_share: float = 0.511  # 2022: 51.1 % on time, 48.9 % late with an approved extension
    on_time_trend: float = 0.03  # change of the on-time share per year (2019: 42.1 %, 2026: 63.1 %)
    slow_units: tuple[str, ...] = ()
    slow_stage: str = "in_progress"
    slow_factor: float = 4.0
    slow_since: date | None = None  # the slowdown starts that day (reports received from then on); None: always
    repeat_share: float = 0.2
    reporter_share: float = 0.1
    # Each with its own unit, stage, factor, start and end (in addition to slow_units).
    slowdowns: tuple[Slowdown, ...] = ()
    # (unit, factor): units slower in every stage over the whole history, unchanged (not bottlenecks).
    slow_by_nature: tuple[tuple[str, float], ...] = ()

    def all_slowdowns(self) -> tuple[Slowdown, ...]:
        """``slow_units`` (one stage, factor and start for all) and ``slowdowns`` together."""
        common = tuple(Slowdown(u, self.slow_stage, self.slow_factor, self.slow_since) for u in self.slow_units)
        return common + self.slowdowns

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad value."""
        if self.count < 1:
            raise ValueError(f"count must be at least 1, got {self.count}")
        if self.until <= HISTORY_START + timedelta(days=31):
            raise ValueError(f"until must be after {HISTORY_START + timedelta(days=31)}, got {self.until}")
        if not 0 < self.on_time_share < 1:
            raise ValueError(f"on_time_share must be between 0 and 1, got {self.on_time_share}")
        if not -0.2 <= self.on_time_trend <= 0.2:
            raise ValueError(f"on_time_trend must be between -0.2 and 0.2 per year, got {self.on_time_trend}")
        if self.slow_stage not in SLOW_STAGES:
            raise ValueError(f"slow_stage must be one of {', '.join(SLOW_STAGES)}, got {self.slow_stage!r}")
        if self.slow_factor < 1:
            raise ValueError(f"slow_factor must be at least 1, got {self.slow_factor}")
        if self.slow_since is not None and not HISTORY_START <= self.slow_since < self.until:
            raise ValueError(f"slow_since must be between {HISTORY_START} and until, got {self.slow_since}")
        for name in ("repeat_share", "reporter_share"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        for slow in self.slowdowns:
            if slow.stage not in SLOW_STAGES or slow.factor < 1:
                raise ValueError(f"a slowdown needs a stage in {', '.join(SLOW_STAGES)} and a factor >= 1: {slow}")
            if slow.start and slow.end and slow.end <= slow.start:
                raise ValueError(f"a slowdown must end after it starts: {slow}")
        for unit, factor in self.slow_by_nature:
            if factor <= 0:
                raise ValueError(f"slow_by_nature factor must be positive, got {factor} for {unit}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        out = asdict(self)
        out["until"] = self.until.isoformat()
        out["slow_units"] = list(self.slow_units)
        out["slow_since"] = self.slow_since.isoformat() if self.slow_since else None
        # Absent when unused, so the default history keeps its parameters and checksum.
        for key in ("slowdowns", "slow_by_nature"):
            out.pop(key)
        if self.slowdowns:
            out["slowdowns"] = [d.as_dict() for d in self.slowdowns]
        if self.slow_by_nature:
            out["slow_by_nature"] = [list(pair) for pair in self.slow_by_nature]
        return out


@dataclass
class ReportHistory:
    """A generated history: rows for four tables (``report_idx`` links them) and a manifest.

    ``reports`` has the ``citizen_reports`` columns less ``id``/``updated_at``, with ``idx``
    (0 … n-1, time order) and ``duplicate_idx`` in place of ids, EPSG:4326 points, UTC times.
    """

    reports: gpd.GeoDataFrame
    events: pd.DataFrame
    calls: pd.DataFrame
    reporters: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


# --- public codes ------------------------------------------------------------------------------

_MASK20 = np.uint64((1 << 20) - 1)


def _mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finaliser: a well-mixed 64-bit hash of each value."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(x ^ (x >> np.uint64(31)))


def report_codes(seed: int, indices: Iterable[int] | NDArray[np.int64]) -> NDArray[np.object_]:
    """Public codes ``HUE-XXXXXXXX`` for report numbers: distinct for distinct numbers, fixed by the seed.

    A four-round Feistel network permutes the 40-bit space (8 Crockford base32 characters) with
    keys from the seed, so codes look like intake's random ones yet never repeat within a history.
    """
    idx = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices, dtype=np.uint64)
    if idx.size and int(idx.max()) >= 1 << 40:
        raise ValueError("report number beyond the 40-bit code space")
    base = (seed * 0x9E3779B97F4A7C15) % (1 << 64)  # Python ints: no silent overflow
    keys = _mix64(np.array([(base + k) % (1 << 64) for k in range(1, 5)], dtype=np.uint64))
    left, right = idx >> np.uint64(20), idx & _MASK20
    for key in keys:
        left, right = right, left ^ (_mix64(right ^ key) & _MASK20)
    value = (left << np.uint64(20)) | right
    alphabet = np.frombuffer(CODE_ALPHABET.encode(), dtype=np.uint8)
    text = np.empty((len(idx), 4 + CODE_LENGTH), dtype=np.uint8)
    text[:, :4] = np.frombuffer(b"HUE-", dtype=np.uint8)
    for k in range(CODE_LENGTH):
        text[:, 4 + k] = alphabet[((value >> np.uint64(5 * (CODE_LENGTH - 1 - k))) & np.uint64(31)).astype(np.int64)]
    return np.asarray(text.view(f"S{4 + CODE_LENGTH}").ravel().astype(str), dtype=object)


def _codes_avoiding(seed: int, n: int, avoid: frozenset[str]) -> NDArray[np.object_]:
    """Codes for reports 0 … n-1; any that a live report already holds is replaced by a spare one."""
    codes = report_codes(seed, np.arange(n, dtype=np.int64))
    if avoid:
        clash = np.flatnonzero(np.isin(codes, list(avoid)))
        spare = n
        for i in clash:
            while (candidate := report_codes(seed, [spare])[0]) in avoid:
                spare += 1
            codes[i] = candidate
            spare += 1
    return codes


# --- inputs ------------------------------------------------------------------------------------


def _category_table(categories: Sequence[Mapping[str, Any]] | None) -> pd.DataFrame:
    rows = list(categories) if categories is not None else read_catalogue()["categories"]
    table = pd.DataFrame(
        [
            {
                "code": c["code"],
                "level": c["level"],
                "department": c.get("department") if c["level"] == "city" else None,
                "sla_hours": float(c["sla_hours"]),
                "radius_m": float(c["duplicate_radius_m"]),
                "window_days": float(c["duplicate_window_days"]),
            }
            for c in rows
        ]
    )
    if table.empty:
        raise ValueError("the category catalogue is empty")
    return table


def ward_type(model: WardModel, touches_water: bool) -> str:
    """core | urban | rural | coastal | mountain, from density, level and the shore."""
    if model.urbanity >= 0.8:
        return "core"
    if model.density < 100:
        return "mountain"
    if touches_water:
        return "coastal"
    return "urban" if model.level == "ward" else "rural"


def _ward_table(ctx: SynthContext, tourism_sites: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """One row per ward: model, type, 4326 outline, tourism sites (UTM) inside it."""
    models = ctx.models()
    outlines = ctx.wards.set_index(ctx.wards["code"].astype(str)).geometry
    land_utm = to_utm(ctx.land)
    sites_xy = np.empty((0, 2))
    if tourism_sites is not None and len(tourism_sites):
        sites = tourism_sites.to_crs(WGS84) if tourism_sites.crs is not None else tourism_sites
        sites_xy = shapely.get_coordinates(to_utm(np.asarray(sites.geometry.values)))
    rows = []
    for m in models:
        outline_utm = to_utm(outlines[m.code])
        # A ward whose outline reaches past the land mask borders the sea or a lagoon.
        touches = outline_utm.area - m.region.area > 0.005 * outline_utm.area or not outline_utm.within(
            land_utm.buffer(1.0)
        )
        inside = shapely.contains_xy(m.region, sites_xy[:, 0], sites_xy[:, 1]) if len(sites_xy) else np.zeros(0, bool)
        rows.append(
            {
                "code": m.code,
                "name": m.name,
                "level": m.level,
                "type": ward_type(m, bool(touches)),
                "population": m.population,
                "model": m,
                "outline": outlines[m.code],
                "sites": sites_xy[inside] if len(sites_xy) else np.empty((0, 2)),
            }
        )
    return pd.DataFrame(rows)


def _storm_days(storms: pd.DataFrame | None, start: date, until: date) -> list[tuple[int, float]]:
    """(day index, amplitude) of each storm that passed within 300 km of Huế in the period."""
    if storms is None or storms.empty:
        return []
    out = []
    first = (start - date(1970, 1, 1)).days
    for _, storm in storms.iterrows():
        km = float(storm["closest_km"])
        if km > STORM_RADIUS_KM:
            continue
        at = pd.Timestamp(storm["closest_at"])
        at = at.tz_localize("UTC") if at.tzinfo is None else at
        day = int(local_day(np.array([at.timestamp()]))[0]) - first
        if not 0 <= day < (until - start).days:
            continue
        wind = storm.get("wind_at_closest_kt")
        wind = 20.0 if wind is None or pd.isna(wind) else max(float(wind), 20.0)
        out.append((day, STORM_AMPLITUDE * (wind / 35.0) ** 1.2 * float(np.exp(-km / 120.0))))
    return out


def _day_table(start: date, until: date, storms: pd.DataFrame | None) -> pd.DataFrame:
    """Per local day: epoch start, weekday, month, adoption, surge index, Tết and COVID flags."""
    dates = pd.date_range(start, until - timedelta(days=1), freq="D")
    n = len(dates)
    years = dates.year + (dates.day_of_year - 0.5) / 365.25
    adoption = ADOPTION_FLOOR + (1 - ADOPTION_FLOOR) / (1 + np.exp(-(years - ADOPTION_MID_YEAR) / ADOPTION_WIDTH_YEARS))
    # Seasonal index interpolated between mid-month values, so the surge ramps up and down.
    month_pos = dates.month - 1 + (dates.day - 0.5) / dates.days_in_month - 0.5
    season = np.interp(month_pos, np.arange(-1, 13), np.r_[SEASON[-1], SEASON, SEASON[0]])
    storm = np.zeros(n)
    for day, amplitude in _storm_days(storms, start, until):
        at = day + STORM_DAYS
        ok = (at >= 0) & (at < n)
        storm[at[ok]] += amplitude * STORM_PULSE[ok]
    tet = np.zeros(n, dtype=bool)
    for new_year in TET:
        lo, hi = (new_year - timedelta(days=2) - start).days, (new_year + timedelta(days=5) - start).days
        tet[max(lo, 0) : max(min(hi, n), 0)] = True
    covid = (dates >= pd.Timestamp(COVID_TOURISM[0])) & (dates < pd.Timestamp(COVID_TOURISM[1]))
    return pd.DataFrame(
        {
            "date": dates.date,
            "start_s": [day_start(d) for d in dates.date],
            "year": dates.year,
            "month": dates.month,
            "weekday": dates.day_of_week,
            "adoption": adoption,
            "surge": season + storm,
            "storm": storm,
            "tet": tet,
            "covid": covid,
        }
    )


# --- drawing the reports ---------------------------------------------------------------------


def _intensity(days: pd.DataFrame, wards: pd.DataFrame, cats: pd.DataFrame) -> NDArray[np.float64]:
    """Expected reports per (day, ward, category), up to a constant: shape (D, W, C)."""
    codes = list(cats["code"])
    type_col = {t: i for i, t in enumerate(WARD_TYPES)}
    mix = np.array(
        [[CATEGORY_MIX.get(c, (UNKNOWN_CATEGORY_MIX,) * 5)[type_col[t]] for c in codes] for t in wards["type"]]
    )
    rate = wards["population"].to_numpy(float) * wards["type"].map(REPORTING_RATE).to_numpy(float)
    ward_cat = rate[:, None] * mix / mix.sum(axis=1, keepdims=True)
    if "tourism_services" in codes:
        n_sites = np.array([len(s) for s in wards["sites"]])
        ward_cat[:, codes.index("tourism_services")] *= (
            1 + np.minimum(n_sites, TOURISM_SITES_CAP) / TOURISM_SITES_PER_DOUBLING
        )
    weekday = days["weekday"].to_numpy()
    day_cat = np.empty((len(days), len(codes)))
    for j, code in enumerate(codes):
        day_cat[:, j] = np.asarray(WEEKDAY_BY_CATEGORY.get(code, WEEKDAY))[weekday]
        tet = TET_FACTOR_GARBAGE if code == "garbage" else TET_FACTOR
        day_cat[:, j] *= np.where(days["tet"], tet, 1.0)
        if code == "tourism_services":
            day_cat[:, j] *= np.where(days["covid"], COVID_TOURISM[2], 1.0)
    day_cat *= days["adoption"].to_numpy()[:, None]
    alpha = np.array([SURGE_SENSITIVITY.get(c, 0.0) for c in codes])
    exposure = wards["type"].map(FLOOD_EXPOSURE).to_numpy(float)
    surge = days["surge"].to_numpy()
    weather = 1 + alpha[None, None, :] * exposure[None, :, None] * surge[:, None, None]
    # The surge moves reports into the rainy season; the yearly mix stays the table's.
    weather /= weather.mean(axis=0, keepdims=True)
    return np.asarray(day_cat[:, None, :] * ward_cat[None, :, :] * weather)


def _hours(rng: np.random.Generator, categories: NDArray[np.object_]) -> NDArray[np.float64]:
    """Seconds after local midnight, following the hourly rhythm of each category."""
    out = np.empty(len(categories))
    noise = categories == "noise"
    for mask, profile in ((noise, HOURLY_NOISE), (~noise, HOURLY)):
        p = np.asarray(profile) / np.sum(profile)
        hour = rng.choice(24, size=int(mask.sum()), p=p)
        out[mask] = hour * 3600 + rng.integers(0, 3600, size=int(mask.sum()))
    return out


def _place(rng: np.random.Generator, wards: pd.DataFrame, ward_idx: NDArray[np.int64],
           categories: NDArray[np.object_]) -> NDArray[np.float64]:  # fmt: skip
    """UTM points on each report's ward land, by the ward's density model and the category's spread."""
    xy = np.empty((len(ward_idx), 2))
    spread = pd.Series(categories).map(SPREAD).fillna(1.0).to_numpy()
    for w, row in wards.iterrows():
        model: WardModel = row["model"]
        in_ward = ward_idx == w
        if not in_ward.any():
            continue
        tourism = in_ward & (categories == "tourism_services")
        if len(row["sites"]) and tourism.any():
            near = tourism & (rng.random(len(ward_idx)) < TOURISM_NEAR_SITE)
            xy[near] = _near_sites(rng, model, row["sites"], int(near.sum()))
            in_ward &= ~near
        for value in np.unique(spread[in_ward]):
            group = np.flatnonzero(in_ward & (spread == value))
            background = model.background * (0.5 if value < 1 else 1.0)
            xy[group] = sample_points(model, len(group), rng, spread=float(value), background=background)
    return xy


def _near_sites(rng: np.random.Generator, model: WardModel, sites: NDArray, n: int) -> NDArray[np.float64]:
    """Points within a stroll of the ward's tourism sites, on its land."""
    region = model.region
    shapely.prepare(region)
    out = np.empty((n, 2))
    todo = np.arange(n)
    for _ in range(20):
        if not len(todo):
            return out
        xy = sites[rng.integers(0, len(sites), len(todo))] + rng.normal(0, TOURISM_SITE_RADIUS_M, (len(todo), 2))
        ok = shapely.contains_xy(region, xy[:, 0], xy[:, 1])
        out[todo[ok]] = xy[ok]
        todo = todo[~ok]
    out[todo] = sample_points(model, len(todo), rng, spread=0.6)
    return out


@dataclass
class _Draft:
    """Reports before sorting: arrays of one length."""

    t0: NDArray[np.float64]
    ward: NDArray[np.int64]
    category: NDArray[np.object_]
    xy: NDArray[np.float64]
    root: NDArray[np.int64]  # index into the same draft (-1: a first report)

    def __len__(self) -> int:
        return len(self.t0)


def _background(rng: np.random.Generator, n: int, days: pd.DataFrame, wards: pd.DataFrame,
                cats: pd.DataFrame) -> _Draft:  # fmt: skip
    """First reports of problems: (day, ward, category) cells drawn by intensity, then time and place."""
    lam = _intensity(days, wards, cats)
    shape = lam.shape
    cells = rng.choice(lam.size, size=n, p=(lam / lam.sum()).ravel())
    day, ward, cat = np.unravel_index(cells, shape)
    categories = cats["code"].to_numpy(dtype=object)[cat]
    t0 = days["start_s"].to_numpy(float)[day] + _hours(rng, categories)
    xy = _place(rng, wards, ward.astype(np.int64), categories)
    return _Draft(t0=t0, ward=ward.astype(np.int64), category=categories, xy=xy, root=np.full(n, -1, np.int64))


def _repeats(rng: np.random.Generator, first: _Draft, n: int, wards: pd.DataFrame, cats: pd.DataFrame,
             until_s: float) -> _Draft:  # fmt: skip
    """``n`` near-repeats of earlier reports: same spot within metres, hours to weeks later."""
    if n == 0 or len(first) == 0:
        return _Draft(np.empty(0), np.empty(0, np.int64), np.empty(0, object), np.empty((0, 2)), np.empty(0, np.int64))
    propensity = pd.Series(first.category).map(CHRONIC).fillna(0.5).to_numpy()
    propensity = propensity * rng.lognormal(0.0, SPOT_PROPENSITY_SIGMA, len(first))
    p = propensity / propensity.sum()
    parents: list[NDArray[np.int64]] = []
    times: list[NDArray[np.float64]] = []
    have = 0
    for _ in range(20):
        m = int((n - have) * 1.5) + 16
        draw = rng.choice(len(first), size=m, p=p)
        # The k-th draw of a parent is its k-th repeat: gaps add up, so a chronic spot recurs in a chain.
        rank = pd.Series(draw).groupby(draw).cumcount().to_numpy()
        same_event = rng.random(m) < SAME_EVENT_SHARE
        gap = np.where(same_event, 60 + rng.exponential(SAME_EVENT_MEAN_S, m),
                       DAY_S * (1 + rng.exponential(RECUR_MEAN_DAYS, m)))  # fmt: skip
        order = np.lexsort((rank, draw))
        cum = np.empty(m)
        cum[order] = pd.Series(gap[order]).groupby(draw[order]).cumsum().to_numpy()
        t = first.t0[draw] + cum
        # A recurrence is reported at the hour people report, on the day it comes back.
        redo = ~same_event
        midnight = np.floor((t[redo] + ICT_OFFSET_S) / DAY_S) * DAY_S - ICT_OFFSET_S
        t[redo] = midnight + _hours(rng, first.category[draw[redo]])
        t = np.maximum(t, first.t0[draw] + 60)
        ok = (t < until_s) & (rank < 200)
        parents.append(draw[ok])
        times.append(t[ok])
        have += int(ok.sum())
        if have >= n:
            break
    parent = np.concatenate(parents)[:n]
    t0 = np.concatenate(times)[:n]
    k = len(parent)
    ward = first.ward[parent]
    category = first.category[parent].copy()
    switch = rng.random(k) >= REPEAT_SAME_CATEGORY
    if switch.any():
        category[switch] = rng.choice(cats["code"].to_numpy(dtype=object), size=int(switch.sum()))
    xy = first.xy[parent] + rng.normal(0, REPEAT_JITTER_M, (k, 2))
    for w in np.unique(ward):
        region = wards.loc[w, "model"].region
        shapely.prepare(region)
        rows = np.flatnonzero(ward == w)
        for _ in range(4):
            out = rows[~shapely.contains_xy(region, xy[rows, 0], xy[rows, 1])]
            if not len(out):
                break
            xy[out] = first.xy[parent[out]] + rng.normal(0, REPEAT_JITTER_M, (len(out), 2))
        out = rows[~shapely.contains_xy(region, xy[rows, 0], xy[rows, 1])]
        xy[out] = first.xy[parent[out]]  # the same spot exactly: the same pothole again
    return _Draft(t0=t0, ward=ward, category=category, xy=xy, root=parent.astype(np.int64))


def _check_points(rng: np.random.Generator, wards: pd.DataFrame, draft: _Draft, land: Any) -> NDArray[np.float64]:
    """Points in EPSG:4326 that lie in their ward's outline and on land (re-drawn where reprojection disagrees)."""
    lonlat = shapely.get_coordinates(to_wgs84(shapely.points(draft.xy)))
    shapely.prepare(land)
    for w in np.unique(draft.ward):
        outline = wards.loc[w, "outline"]
        shapely.prepare(outline)
        rows = np.flatnonzero(draft.ward == w)
        for _ in range(10):
            inside = shapely.contains_xy(outline, lonlat[rows, 0], lonlat[rows, 1]) & shapely.contains_xy(
                land, lonlat[rows, 0], lonlat[rows, 1]
            )
            bad = rows[~inside]
            if not len(bad):
                break
            fresh = sample_points(wards.loc[w, "model"], len(bad), rng)
            lonlat[bad] = shapely.get_coordinates(to_wgs84(shapely.points(fresh)))
        else:
            raise RuntimeError(f"could not place {len(bad)} reports inside ward {wards.loc[w, 'code']}")
    return lonlat


# --- the generator -----------------------------------------------------------------------------


def generate_report_history(
    ctx: SynthContext,
    params: HistoryParams | None = None,
    *,
    categories: Sequence[Mapping[str, Any]] | None = None,
    storms: pd.DataFrame | None = None,
    tourism_sites: gpd.GeoDataFrame | None = None,
    avoid_codes: frozenset[str] = frozenset(),
    events: bool = True,
) -> ReportHistory:
    """Generate ``params.count`` citizen reports received from 2019-01-01 to ``params.until`` (ICT).

    Parameters
    ----------
    ctx : SynthContext
        Wards (EPSG:4326), land mask and density model; placement happens in EPSG:32648 metres.
    params : HistoryParams
        Count, seed, end date, on-time target and trend, slow units, shares.
    categories : sequence of mappings, optional
        The catalogue's categories (``code``, ``level``, ``department``, ``sla_hours`` in working
        hours, ``duplicate_radius_m`` in metres, ``duplicate_window_days``); default: the shipped
        catalogue.
    storms : DataFrame, optional
        ``storm_tracks`` rows (``closest_at`` UTC, ``closest_km`` km, ``wind_at_closest_kt`` kt);
        without it only the seasonal surge applies.
    tourism_sites : GeoDataFrame, optional
        Tourism sites (EPSG:4326); tourism complaints cluster around them.
    avoid_codes : frozenset of str
        Public codes already taken by live reports (the loader passes any clash it finds).
    events : bool
        False: no ``events`` rows (the reports, calls and reporters are the same either way).

    Returns
    -------
    ReportHistory
        ``reports`` (EPSG:4326 points, UTC timestamps), ``events``, ``calls``, ``reporters`` and a
        ``manifest`` recording the parameters, injected slow units and the resulting KPIs.
    """
    params = params or HistoryParams()
    params.validate()
    cats = _category_table(categories)
    rng = np.random.default_rng([params.seed, SEED_OFFSET])
    wards = _ward_table(ctx, tourism_sites)
    units = _unit_table(wards, cats)
    named = {d.unit for d in params.all_slowdowns()} | {u for u, _ in params.slow_by_nature}
    unknown = sorted(named - set(units["code"]))
    if unknown:
        raise ValueError(f"unknown slow unit(s) {unknown}; use a ward/commune code or a department code")
    until_s = float(day_start(params.until))
    days = _day_table(HISTORY_START, params.until, storms)

    n_repeat = round(params.count * params.repeat_share)
    first = _background(rng, params.count - n_repeat, days, wards, cats)
    repeats = _repeats(rng, first, n_repeat, wards, cats, until_s)
    if len(repeats) < n_repeat:  # a very short period leaves no room for repeats: fill with first reports
        extra = _background(rng, n_repeat - len(repeats), days, wards, cats)
        first = _concat(first, extra)
    draft = _concat(first, repeats)
    draft = _sorted(draft)
    lonlat = _check_points(rng, wards, draft, ctx.land)

    n = len(draft)
    cat_rows = cats.set_index("code").loc[draft.category]
    ward_rows = wards.iloc[draft.ward]
    dept = cat_rows["department"].to_numpy(dtype=object)
    city = cat_rows["level"].to_numpy() == "city"
    dept = outcomes.only_where(city, dept)
    admin_code = ward_rows["code"].to_numpy(dtype=object)
    unit_code = np.where(city, dept, admin_code).astype(object)
    unit_pos = {c: i for i, c in enumerate(units["code"])}
    unit_idx = np.array([unit_pos[c] for c in unit_code], dtype=np.int64)
    local = pd.to_datetime(draft.t0, unit="s", utc=True).tz_convert(ICT)
    year = local.year.to_numpy().astype(np.int64)
    channel = _channels(rng, year, ward_rows, params.count)
    root = draft.root
    root_safe = np.maximum(root, 0)
    root_dist = np.where(root >= 0, np.hypot(*(draft.xy - draft.xy[root_safe]).T), np.inf)
    inputs = outcomes.OutcomeInputs(
        t0=draft.t0,
        year=year,
        category=draft.category,
        sla_h=cat_rows["sla_hours"].to_numpy(float),
        unit=unit_idx,
        channel=channel,
        root=root,
        root_dist_m=root_dist,
        duplicate_radius_m=cat_rows["radius_m"].to_numpy(float),
        duplicate_window_s=cat_rows["window_days"].to_numpy(float) * DAY_S,
    )
    effects = _unit_effects(rng, units, params)
    targets = {int(y): float(outcomes.on_time_target(np.array([y]), params.on_time_share, params.on_time_trend)[0])
               for y in range(HISTORY_START.year, params.until.year + 1)}  # fmt: skip
    calendar = WorkCalendar(HISTORY_START - timedelta(days=7), params.until + timedelta(days=3 * 365))
    timeline = outcomes.simulate(inputs, effects, calendar=calendar, rng=rng, targets=targets, until=until_s)
    cols = outcomes.columns_at(inputs, timeline, until_s)

    codes = _codes_avoiding(params.seed, n, avoid_codes)
    u = timeline.u_text
    escalated = np.isfinite(cols["escalated_at"])
    escalated_to = pd.Series(dept, dtype=object).fillna(ESCALATION_DEPARTMENT).to_numpy(dtype=object)
    result_notes = _result_notes(draft.category, u)
    reject_notes = outcomes.pick(texts.REJECTIONS, u)
    day_idx = ((draft.t0 - days["start_s"].iloc[0]) // DAY_S).astype(np.int64)
    surge = days["surge"].to_numpy()[day_idx]
    names = ward_rows["name"].to_numpy(dtype=object)
    receive_notes = np.asarray("Routed to " + pd.Series(names) + pd.Series(dept).map(
        lambda d: f" / {d}" if isinstance(d, str) else ""), dtype=object)  # fmt: skip
    events_frame = outcomes.build_events if events else outcomes.no_events
    transitions = events_frame(
        inputs,
        timeline,
        until=until_s,
        unit_codes=unit_code,
        receive_details=outcomes.receive_details(admin_code, names, dept),
        receive_notes=receive_notes,
        escalated_to=escalated_to,
        codes=codes,
        result_notes=result_notes,
    )
    rating = cols["rating"]
    final_comment = np.where(
        np.isfinite(timeline.rate2) & (timeline.rate2 < until_s),
        outcomes.comments(timeline.rating2, 1 - u),
        outcomes.comments(timeline.rating1, u),
    )
    status = cols["status"]
    # The public result: what was done (kept through a reopen, as the workflow keeps it), or why not.
    result_note = outcomes.only_where(
        np.isfinite(cols["resolved_at"]) | (status == "closed") | (cols["reopened_count"] > 0), result_notes
    )
    result_note[cols["rejected"]] = reject_notes[cols["rejected"]]
    reports = pd.DataFrame(
        {
            "idx": np.arange(n),
            "code": codes,
            "category": draft.category,
            "description": _descriptions(draft, wards, rng),
            "channel": channel,
            "status": status,
            "priority": _priorities(rng, draft.category, surge),
            "admin_unit_code": admin_code,
            "responsible_level": np.where(escalated | city, "city", "ward"),
            "department": np.where(escalated, escalated_to, dept),
            "received_at": _utc(draft.t0),
            "due_at": _utc(cols["due_at"]),
            "assigned_at": _utc(cols["assigned_at"]),
            "started_at": _utc(cols["started_at"]),
            "resolved_at": _utc(cols["resolved_at"]),
            "closed_at": _utc(cols["closed_at"]),
            "escalated_at": _utc(cols["escalated_at"]),
            "extension_status": cols["extension_status"],
            "extension_hours": pd.array(
                np.where(cols["extension_hours"] > 0, cols["extension_hours"], 0), dtype="Int64"
            ).astype("Int64"),
            "extension_reason": outcomes.only_where(
                cols["extension_hours"] > 0, outcomes.pick(texts.EXTENSION_REASONS, u)
            ),
            "result_note": result_note,
            "rating": pd.array(rating, dtype="Int64"),
            "rating_comment": outcomes.only_where(rating > 0, final_comment),
            "reopened_count": cols["reopened_count"],
            "duplicate_idx": pd.array(np.where(cols["is_duplicate"], root, -1), dtype="Int64"),
            "synthetic": True,
        }
    )
    for column in ("extension_hours", "rating", "duplicate_idx"):
        reports[column] = reports[column].mask(reports[column] <= (0 if column != "duplicate_idx" else -1))
    reports["result_note"] = reports["result_note"].where(reports["status"] != "duplicate", None)
    geoms = shapely.points(lonlat)
    frame = gpd.GeoDataFrame(reports, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84).rename_geometry("geom")

    transitions["at"] = _utc(transitions["at"].to_numpy(float))
    calls = _calls(rng, frame, timeline, days, params, until_s, calendar)
    reporters = _reporters(rng, frame, params.reporter_share)
    history = ReportHistory(reports=frame, events=transitions, calls=calls, reporters=reporters)
    history.manifest = _manifest(history, params, units, effects, targets, unit_code)
    return history


# --- helpers of the generator ------------------------------------------------------------------


def _concat(a: _Draft, b: _Draft) -> _Draft:
    """Append ``b`` to ``a``; ``b``'s roots index ``a`` (they are first reports)."""
    return _Draft(
        t0=np.concatenate([a.t0, b.t0]),
        ward=np.concatenate([a.ward, b.ward]),
        category=np.concatenate([a.category, b.category]),
        xy=np.vstack([a.xy, b.xy]),
        root=np.concatenate([a.root, b.root]),
    )


def _sorted(d: _Draft) -> _Draft:
    """Reports in time order (the index becomes the report number), roots re-pointed."""
    t0 = np.round(d.t0)
    order = np.argsort(t0, kind="stable")
    new_pos = np.empty_like(order)
    new_pos[order] = np.arange(len(order))
    root = d.root[order]
    root = np.where(root >= 0, new_pos[np.maximum(root, 0)], -1)
    return _Draft(t0=t0[order], ward=d.ward[order], category=d.category[order], xy=d.xy[order], root=root)


def _unit_table(wards: pd.DataFrame, cats: pd.DataFrame) -> pd.DataFrame:
    """Every unit that handles reports: the wards/communes, then the departments of city categories."""
    departments = sorted({d for d in cats["department"] if isinstance(d, str)})
    names = {d["code"]: d["name_en"] for d in read_catalogue()["departments"]}
    return pd.DataFrame(
        {
            "code": [*wards["code"], *departments],
            "name": [*wards["name"], *(names.get(d, d) for d in departments)],
            "kind": ["ward"] * len(wards) + ["department"] * len(departments),
        }
    )


def _unit_effects(rng: np.random.Generator, units: pd.DataFrame, params: HistoryParams) -> outcomes.UnitEffects:
    """Per-unit speed, rejection and satisfaction differences; the named slow units flagged."""
    n = len(units)
    codes = units["code"].tolist()
    speed = rng.lognormal(0.0, UNIT_SPEED_SIGMA, n)
    reject = rng.lognormal(0.0, UNIT_REJECT_SIGMA, n)
    low_rating = rng.lognormal(0.0, UNIT_RATING_SIGMA, n)
    for code, nature in params.slow_by_nature:
        speed[codes.index(code)] *= nature
    slow = np.zeros(n, dtype=bool)
    stage = np.full(n, "in_progress", dtype=object)
    factor = np.ones(n)
    since, until = np.full(n, -np.inf), np.full(n, np.inf)
    for d in params.all_slowdowns():
        k = codes.index(d.unit)
        slow[k], stage[k], factor[k] = True, d.stage, d.factor
        since[k] = float(day_start(d.start)) if d.start else -np.inf
        until[k] = float(day_start(d.end)) if d.end else np.inf
    return outcomes.UnitEffects(codes=tuple(codes), speed=speed, reject=reject, low_rating=low_rating, slow=slow,
                                slow_stage=stage, slow_factor=factor, slow_since=since, slow_until=until)  # fmt: skip


def _channels(
    rng: np.random.Generator, year: NDArray[np.int64], wards: pd.DataFrame, count: int
) -> NDArray[np.object_]:
    """App dominant and growing; web and Open311 clients; hotline reports matching the call volume."""
    n = len(year)
    k = year - HISTORY_START.year
    app = np.minimum(0.62 + 0.04 * k, 0.88)
    open311 = np.minimum(0.03 + 0.006 * k, 0.07)
    u = rng.random(n)
    channel = np.where(u < app, "app", np.where(u < app + open311, "open311", "web")).astype(object)
    hotline = round(_scaled(HUE_CALLS_IN, count) * HOTLINE_CALLS_FILING)
    hotline = min(hotline, n)
    # Phoning is commoner early on and in the countryside (Efraimidis-Spirakis weighted sampling).
    weight = np.clip(2.2 - 0.4 * k, 1.0, None) * np.where(wards["level"].to_numpy() == "commune", 1.6, 1.0)
    weight = weight * np.where(wards["type"].to_numpy() == "mountain", 1.5, 1.0)
    keys = -np.log(rng.random(n)) / weight
    channel[np.argsort(keys, kind="stable")[:hotline]] = "hotline"
    return channel


def _scaled(total: int, count: int) -> int:
    return round(total * count / HUE_REPORTS)


def _result_notes(categories: NDArray[np.object_], u: NDArray[np.float64]) -> NDArray[np.object_]:
    out = np.empty(len(categories), dtype=object)
    for code in np.unique(categories):
        rows = categories == code
        out[rows] = outcomes.pick(texts.RESULTS.get(code, texts.RESULTS["other"]), u[rows] * 3 % 1)
    return out


def _descriptions(draft: _Draft, wards: pd.DataFrame, rng: np.random.Generator) -> NDArray[np.object_]:
    """A Vietnamese description naming the locality (pre-2025 ward/commune) nearest the report."""
    place = np.empty(len(draft), dtype=object)
    for w in np.unique(draft.ward):
        model: WardModel = wards.loc[w, "model"]
        rows = np.flatnonzero(draft.ward == w)
        if not model.localities:
            place[rows] = model.short
            continue
        d2 = ((draft.xy[rows, None, :] - model.locality_xy[None, :, :]) ** 2).sum(axis=2)
        place[rows] = np.asarray(model.localities, dtype=object)[d2.argmin(axis=1)]
    out = np.empty(len(draft), dtype=object)
    pick = rng.random(len(draft))
    for code in np.unique(draft.category):
        rows = np.flatnonzero(draft.category == code)
        templates = texts.DESCRIPTIONS.get(code, texts.DESCRIPTIONS["other"])
        chosen = outcomes.pick(templates, pick[rows])
        out[rows] = [t.format(place=p) for t, p in zip(chosen, place[rows], strict=True)]
    return out


def _priorities(rng: np.random.Generator, categories: NDArray[np.object_], surge: NDArray[np.float64]) -> NDArray:
    p = np.array([PRIORITY.get(c, PRIORITY_DEFAULT) for c in categories])
    storm_day = (surge > 1.5) & np.isin(categories, ["drainage_flooding", "fallen_tree", "electricity"])
    p[storm_day] = PRIORITY_STORM
    cdf = np.cumsum(p, axis=1)
    pick = (rng.random(len(categories))[:, None] * cdf[:, -1:] > cdf).sum(axis=1)
    return np.asarray(PRIORITIES, dtype=object)[np.minimum(pick, 3)]


def epoch_seconds(times: pd.Series) -> NDArray[np.float64]:
    """UTC timestamps as float epoch seconds (NaN where missing), whatever their resolution."""
    return np.asarray((times - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1), dtype=np.float64)


def _utc(seconds: NDArray[np.float64]) -> pd.Series:
    """Epoch seconds (NaN/inf: missing) as UTC timestamps."""
    values = np.where(np.isfinite(seconds), seconds, np.nan)
    return pd.Series(pd.to_datetime(values, unit="s", utc=True))


def _calls(rng: np.random.Generator, reports: gpd.GeoDataFrame, tl: outcomes.Timeline, days: pd.DataFrame,
           params: HistoryParams, until_s: float, calendar: WorkCalendar) -> pd.DataFrame:  # fmt: skip
    """Hotline calls: inbound ones that filed a report (linked), other inbound, outbound call-backs."""
    n_in, n_out = _scaled(HUE_CALLS_IN, params.count), _scaled(HUE_CALLS_OUT, params.count)
    received = epoch_seconds(reports["received_at"])
    filed = np.flatnonzero(reports["channel"].to_numpy() == "hotline")[:n_in]
    dur_filed = np.round(rng.lognormal(np.log(240), 0.4, len(filed))).astype(np.int64)
    start_filed = received[filed] - dur_filed - rng.integers(5, 60, len(filed))
    # The rest of the inbound calls follow the daily volume of reports.
    n_other = n_in - len(filed)
    weight = days["adoption"].to_numpy() * np.asarray(WEEKDAY)[days["weekday"].to_numpy()]
    day = rng.choice(len(days), size=n_other, p=weight / weight.sum())
    hours = _hours(rng, np.full(n_other, "call", dtype=object))
    start_other = days["start_s"].to_numpy(float)[day] + hours
    dur_other = np.round(rng.lognormal(np.log(150), 0.6, n_other)).astype(np.int64)
    note_other = outcomes.pick(texts.CALL_NOTES_IN, rng.random(n_other))
    # Outbound: operators call back with the result (hotline reports first), or to check details.
    res_s = epoch_seconds(reports["resolved_at"])
    asg_s = epoch_seconds(reports["assigned_at"])
    channel = reports["channel"].to_numpy()
    callback = rng.permutation(np.flatnonzero(np.isfinite(res_s) & (channel == "hotline")))
    start_cb = calendar.clock(calendar.work(res_s[callback]) + rng.uniform(600, 8 * 3600, len(callback)))
    keep = start_cb < until_s
    n_callback = round(0.7 * n_out)
    callback, start_cb = callback[keep][:n_callback], start_cb[keep][:n_callback]
    verify = rng.permutation(np.flatnonzero(np.isfinite(asg_s) & (channel != "hotline")))
    start_vf = calendar.clock(calendar.work(asg_s[verify]) + rng.uniform(300, 4 * 3600, len(verify)))
    keep = start_vf < until_s
    verify, start_vf = verify[keep][: n_out - len(callback)], start_vf[keep][: n_out - len(callback)]
    out_idx = np.concatenate([callback, verify])
    start_out = np.concatenate([start_cb, start_vf])
    note_out = np.array([texts.CALL_NOTE_RESULT] * len(callback) + [texts.CALL_NOTE_VERIFY] * len(verify), dtype=object)
    dur_out = np.round(rng.lognormal(np.log(120), 0.5, len(out_idx))).astype(np.int64)

    calls = pd.DataFrame(
        {
            "direction": np.r_[["in"] * (len(filed) + n_other), ["out"] * len(out_idx)],
            "started_at": np.r_[start_filed, start_other, start_out],
            "duration_s": np.r_[dur_filed, dur_other, dur_out],
            "report_idx": pd.array(np.r_[filed, np.full(n_other, -1), out_idx], dtype="Int64"),
            "note": np.r_[np.full(len(filed), texts.CALL_NOTE_FILED, dtype=object), note_other, note_out],
        }
    )
    calls["report_idx"] = calls["report_idx"].mask(calls["report_idx"] < 0)
    calls["operator"] = "hotline-op-" + pd.Series(rng.integers(1, HOTLINE_OPERATORS + 1, len(calls))).map(
        "{:02d}".format
    )
    calls["caller_phone"] = None  # no phone numbers, not even invented ones
    calls["synthetic"] = True
    calls = calls.sort_values("started_at", kind="stable", ignore_index=True)
    calls["started_at"] = _utc(calls["started_at"].to_numpy(float))
    return calls[
        ["direction", "started_at", "duration_s", "operator", "caller_phone", "report_idx", "note", "synthetic"]
    ]


def _reporters(rng: np.random.Generator, reports: gpd.GeoDataFrame, share: float) -> pd.DataFrame:
    """Placeholder identities for a share of reports: plainly fake, on the reserved .invalid domain."""
    k = round(share * len(reports))
    idx = np.sort(rng.choice(len(reports), size=k, replace=False)) if k else np.empty(0, np.int64)
    codes = reports["code"].to_numpy()[idx]
    serial = pd.Series(codes).str.slice(4).str.lower()
    app = reports["channel"].to_numpy()[idx] == "app"
    return pd.DataFrame(
        {
            "report_idx": idx,
            "full_name": "Người phản ánh mô phỏng " + serial,
            "phone": None,
            "email": "synthetic-" + serial + "@example.invalid",
            "device_id": np.where(app, "synthetic-device-" + serial, None),
        }
    )


def _manifest(history: ReportHistory, params: HistoryParams, units: pd.DataFrame, effects: outcomes.UnitEffects,
              targets: Mapping[int, float], routed_to: NDArray[np.object_]) -> dict[str, Any]:  # fmt: skip
    """What was generated and injected: the record a bottleneck detector is scored against."""
    reports = history.reports
    # The unit a report was routed to at intake (escalation later moves it to the city level).
    per_unit = pd.Series(routed_to).value_counts()
    slow = [
        {
            "code": code,
            "name": str(units.loc[units["code"] == code, "name"].iloc[0]),
            "kind": str(units.loc[units["code"] == code, "kind"].iloc[0]),
            "stage": d.stage,
            "factor": d.factor,
            "since": d.start.isoformat() if d.start else None,
            **({"until": d.end.isoformat()} if d.end else {}),
            "reports": int(per_unit.get(code, 0)),
        }
        for d in params.all_slowdowns()
        for code in (d.unit,)
    ]
    digest = hashlib.sha256()
    for column in ("code", "status", "received_at", "resolved_at"):
        digest.update(pd.util.hash_pandas_object(reports[column], index=False).to_numpy().tobytes())
    return {
        "generator": "layers.synth.reports.generate_report_history",
        "params": params.as_dict(),
        "period": {"start": HISTORY_START.isoformat(), "until": params.until.isoformat(), "timezone": ICT},
        "on_time_targets": {str(y): round(v, 4) for y, v in targets.items()},
        "slow_units": slow,
        "unit_speed": {c: round(float(s), 3) for c, s in zip(effects.codes, effects.speed, strict=True)},
        "counts": {
            "reports": len(reports),
            "events": len(history.events),
            "calls_in": int((history.calls["direction"] == "in").sum()),
            "calls_out": int((history.calls["direction"] == "out").sum()),
            "reporters": len(history.reporters),
        },
        "kpis": history_kpis(history, params.until),
        "content_sha256": digest.hexdigest(),
    }


# --- figures -----------------------------------------------------------------------------------


def history_kpis(history: ReportHistory, until: date = DEFAULT_UNTIL) -> dict[str, Any]:
    """Huế's headline figures computed on a generated history (as the dashboard would on the tables).

    processed: resolved, closed, rejected or duplicate among reports whose deadline (``due_at``)
    has passed at ``until``; satisfied: ratings of 4-5 among rated reports; on time / late with an
    approved extension / breached: among resolved or closed reports, by ``resolved_at`` against
    ``due_at`` and ``extension_status``.
    """
    r = history.reports
    end = pd.Timestamp(day_start(until), unit="s", tz="UTC")
    overdue = r["due_at"] < end
    processed = r["status"].isin(["resolved", "closed", "rejected", "duplicate"])
    rated = r["rating"].notna()
    done = r["status"].isin(["resolved", "closed"])
    approved = r["extension_status"].eq("approved")
    in_time = r["resolved_at"] <= r["due_at"]
    on_time = done & in_time & ~approved
    late_ext = done & in_time & approved
    breached = done & ~in_time
    year = r["received_at"].dt.tz_convert(ICT).dt.year

    def pct(part: pd.Series, whole: pd.Series) -> float:
        return round(100.0 * float(part.sum()) / max(int(whole.sum()), 1), 2)

    by_year = {}
    for y in sorted(year.unique()):
        in_year = year == y
        by_year[str(y)] = {
            "reports": int(in_year.sum()),
            "on_time_pct": pct(on_time & in_year, done & in_year),
            "late_with_extension_pct": pct(late_ext & in_year, done & in_year),
            "breached_pct": pct(breached & in_year, done & in_year),
        }
    calls = history.calls
    inbound = calls["direction"] == "in"
    top = r["category"].value_counts()
    return {
        "reports": len(r),
        "processed_pct": pct(processed & overdue, overdue),
        "satisfied_pct": pct(rated & (r["rating"] >= 4), rated),
        "rated_pct": pct(rated, done),
        "on_time_pct": pct(on_time, done),
        "late_with_extension_pct": pct(late_ext, done),
        "breached_pct": pct(breached, done),
        "open": int((~processed).sum()),
        "rejected": int((r["status"] == "rejected").sum()),
        "duplicates": int((r["status"] == "duplicate").sum()),
        "reopened": int(r["reopened_count"].sum()),
        "escalated": int(r["escalated_at"].notna().sum()),
        "by_year": by_year,
        "top_categories": {str(k): int(v) for k, v in top.head(8).items()},
        "channels": {str(k): int(v) for k, v in r["channel"].value_counts().items()},
        "hotline_in": int(inbound.sum()),
        "hotline_out": int((~inbound).sum()),
        "hotline_in_linked": int((inbound & calls["report_idx"].notna()).sum()),
    }


def storm_days_in(storms: pd.DataFrame | None, until: date = DEFAULT_UNTIL) -> list[date]:
    """The local dates of closest approach of the storms that drive a surge (for tests and docs)."""
    return [HISTORY_START + timedelta(days=d) for d, _ in _storm_days(storms, HISTORY_START, until)]


__all__ = [
    "DEFAULT_COUNT",
    "DEFAULT_UNTIL",
    "HISTORY_START",
    "HistoryParams",
    "ReportHistory",
    "generate_report_history",
    "history_kpis",
    "report_codes",
    "storm_days_in",
]
