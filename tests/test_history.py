"""The generated report history: pure generator properties, then the loaded history in PostGIS.

Generator tests run on histories generated in memory (20,000 reports: enough for the figures to
hold within a point or two); database tests use the 3,000-report history the ``loaded`` fixture
loads, plus reloads of it.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely

from geo.errors import Conflict
from geo.reports.catalogue import read_catalogue
from geo.reports.sla import add_working_hours, working_hours_between
from geo.reports.workflow import OPEN_STATUSES, STEPS
from geo.settings import Settings
from geo.times import TZ
from layers.reports_history import HISTORY_ID, history_end, history_params, load_history, manifest_path, recorded_until
from layers.sources import read_storm_tracks, read_tourism_sites, synth_context
from layers.synth.context import to_utm
from layers.synth.report_calendar import WorkCalendar
from layers.synth.reports import (
    DEFAULT_UNTIL,
    HUE_CALLS_IN,
    HUE_CALLS_OUT,
    HUE_REPORTS,
    HistoryParams,
    ReportHistory,
    epoch_seconds,
    generate_report_history,
    report_codes,
)

SEED = 20251
N = 20_000
ICT = "Asia/Ho_Chi_Minh"
CODE = re.compile(r"^HUE-[0-9A-HJKMNP-TV-Z]{8}$")
# What an action may start from, beyond workflow.STEPS: intake, the citizen's rating, the job.
SPECIAL_FROM = {"receive": (None,), "rate": ("resolved",), "reopen": ("resolved",), "auto_escalate": OPEN_STATUSES}
PLACEHOLDER = ("example.invalid", "mô phỏng", "synthetic-device")


@pytest.fixture(scope="module")
def ctx():
    """The loader's synthetic context (wards without slivers, land, GeoNames places)."""
    return synth_context(SEED)


@pytest.fixture(scope="module")
def storms() -> pd.DataFrame:
    return read_storm_tracks()


def generate(ctx, storms: pd.DataFrame, **params: object) -> ReportHistory:
    return generate_report_history(
        ctx,
        HistoryParams(seed=SEED, **params),
        storms=storms,
        tourism_sites=read_tourism_sites(),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def history(ctx, storms: pd.DataFrame) -> ReportHistory:
    return generate(ctx, storms, count=N)


@pytest.fixture(scope="module")
def categories() -> pd.DataFrame:
    return pd.DataFrame(read_catalogue()["categories"]).set_index("code")


def routed_unit(reports: pd.DataFrame, categories: pd.DataFrame) -> pd.Series:
    """The unit each report was routed to at intake: the category's department, else the ward."""
    dept = reports["category"].map(categories["department"])
    return dept.where(reports["category"].map(categories["level"]) == "city", reports["admin_unit_code"])


# --- the generator, in memory ------------------------------------------------------------------


def test_same_seed_same_history_other_seed_other_history(ctx, storms: pd.DataFrame) -> None:
    a, b = generate(ctx, storms, count=1500), generate(ctx, storms, count=1500)
    pd.testing.assert_frame_equal(a.reports.drop(columns="geom"), b.reports.drop(columns="geom"))
    assert a.reports.geometry.geom_equals_exact(b.reports.geometry, tolerance=0).all()
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.reporters, b.reporters)
    assert a.manifest == b.manifest
    c = generate_report_history(ctx, HistoryParams(seed=SEED + 1, count=1500), storms=storms)
    assert (a.reports["code"].to_numpy() != c.reports["code"].to_numpy()).all()
    assert a.reports["received_at"].tolist() != c.reports["received_at"].tolist()


def test_codes_look_like_intake_codes_and_never_repeat(history: ReportHistory) -> None:
    codes = history.reports["code"]
    assert codes.map(lambda c: bool(CODE.match(c))).all()
    assert codes.is_unique
    many = report_codes(SEED, np.arange(500_000))
    assert len(set(many)) == 500_000, "the Feistel permutation is a bijection"


def test_codes_held_by_live_reports_are_avoided(ctx, storms: pd.DataFrame) -> None:
    plain = generate(ctx, storms, count=500)
    taken = frozenset(plain.reports["code"].iloc[[0, 7, 99]])
    avoided = generate_report_history(
        ctx, HistoryParams(seed=SEED, count=500), storms=storms, tourism_sites=read_tourism_sites(), avoid_codes=taken
    )
    assert not taken & set(avoided.reports["code"]) and avoided.reports["code"].is_unique
    same = ~plain.reports["code"].isin(taken)
    assert (plain.reports["code"][same] == avoided.reports["code"][same]).all()


def test_bad_parameters_are_named(ctx) -> None:
    for params, word in (
        (HistoryParams(count=0), "count"),
        (HistoryParams(slow_stage="resolved"), "slow_stage"),
        (HistoryParams(on_time_share=1.2), "on_time_share"),
        (HistoryParams(until=date(2019, 1, 15)), "until"),
        (HistoryParams(slow_units=("99999",)), "99999"),
        (HistoryParams(slow_since=date(2018, 12, 1)), "slow_since"),
    ):
        with pytest.raises(ValueError, match=word):
            generate_report_history(ctx, params)


def test_working_calendar_agrees_with_sla_module() -> None:
    calendar = WorkCalendar(date(2018, 12, 1), date(2030, 1, 1))
    rng = np.random.default_rng(1)
    start = rng.integers(
        int(datetime(2019, 1, 1, tzinfo=UTC).timestamp()), int(datetime(2026, 11, 1, tzinfo=UTC).timestamp()), 400
    )
    hours = rng.choice([0.25, 3.5, 8, 16, 24, 40, 240], 400)
    got = calendar.add_hours(start, hours)
    end = start + rng.integers(-50_000, 900_000, 400)
    between = calendar.hours_between(start, end)
    for t, h, g, e, b in zip(start, hours, got, end, between, strict=True):
        t0 = datetime.fromtimestamp(int(t), UTC)
        assert add_working_hours(t0, float(h)).timestamp() == g
        assert working_hours_between(t0, datetime.fromtimestamp(int(e), UTC)) == pytest.approx(b, abs=1e-9)


def test_timestamps_are_consistent(history: ReportHistory, categories: pd.DataFrame) -> None:
    r = history.reports
    stages = ["received_at", "assigned_at", "started_at", "resolved_at", "closed_at"]
    for early, late in itertools.pairwise(stages):
        both = r[early].notna() & r[late].notna()
        assert (r.loc[both, early] < r.loc[both, late]).all(), f"{early} < {late}"
    assert (r["due_at"] > r["received_at"]).all()
    assert r["reopened_count"].between(0, 1).all() and r["reopened_count"].sum() > 0
    # due_at is intake's add_working_hours(received_at, SLA), moved by an approved extension.
    sample = r.sample(400, random_state=1)
    for row in sample.itertuples():
        due = add_working_hours(row.received_at.to_pydatetime(), float(categories.loc[row.category, "sla_hours"]))
        if row.extension_status == "approved":
            due = add_working_hours(due, float(row.extension_hours))
        assert row.due_at.to_pydatetime() == due
    extended = r["extension_status"].notna()
    assert r.loc[extended, "extension_hours"].between(1, 240).all() and r.loc[~extended, "extension_hours"].isna().all()
    # Escalated: exactly those that stayed open past their deadline without (enough) extension.
    escalated = r["escalated_at"].notna()
    calendar = WorkCalendar(date(2018, 12, 1), date(2030, 1, 1))
    original_due = calendar.add_hours(epoch_seconds(r["received_at"]), r["category"].map(categories["sla_hours"]))
    assert (epoch_seconds(r["escalated_at"])[escalated] > original_due[escalated]).all()
    assert (r.loc[escalated, "responsible_level"] == "city").all()
    breached = r["resolved_at"] > r["due_at"]
    assert (escalated | ~breached).mean() > 0.97


def test_events_replay_the_workflow(history: ReportHistory) -> None:
    events, reports = history.events, history.reports
    for action, rows in events.groupby("action"):
        allowed = SPECIAL_FROM.get(str(action)) or STEPS[str(action)].allowed_from
        bad = rows[~rows["from_status"].map(lambda s, a=allowed: (None if pd.isna(s) else s) in a)]
        assert bad.empty, f"{action} from {set(bad['from_status'])}"
    ordered = events.groupby("report_idx")["at"].apply(lambda at: at.is_monotonic_increasing)
    assert ordered.all()
    assert (events.groupby("report_idx")["to_status"].last().to_numpy() == reports["status"].to_numpy()).all()
    receive = events[events["action"] == "receive"]
    assert len(receive) == len(reports) and (receive["at"].to_numpy() == reports["received_at"].to_numpy()).all()
    details = json.loads(receive["details"].iloc[0])
    assert set(details) == {"routed_to", "admin_unit_code", "admin_unit_name", "responsible_level", "department"}
    assert events["at"].max() < pd.Timestamp(DEFAULT_UNTIL, tz=ICT)


def test_points_lie_in_their_ward_and_on_land(ctx, history: ReportHistory) -> None:
    r = history.reports
    x, y = r.geometry.x.to_numpy(), r.geometry.y.to_numpy()
    land = ctx.land
    shapely.prepare(land)
    assert shapely.contains_xy(land, x, y).all()
    for code, outline in zip(ctx.wards["code"], ctx.wards.geometry, strict=True):
        inside = (r["admin_unit_code"] == code).to_numpy()
        shapely.prepare(outline)
        assert shapely.contains_xy(outline, x[inside], y[inside]).all(), code
    # Routing as intake does it: ward by position, department by category.
    assert ((r["responsible_level"] == "city") == r["department"].notna()).all()


def test_hue_figures_are_reproduced(history: ReportHistory) -> None:
    k = history.manifest["kpis"]
    assert k["processed_pct"] >= 98.0
    assert 92.0 <= k["satisfied_pct"] <= 98.0
    y2022 = k["by_year"]["2022"]
    assert y2022["on_time_pct"] == pytest.approx(51.1, abs=2.0)
    assert y2022["late_with_extension_pct"] == pytest.approx(48.9, abs=3.5)
    on_time = [k["by_year"][str(y)]["on_time_pct"] for y in range(2019, 2027)]
    assert on_time[0] < on_time[3] < on_time[-1], "on-time share improves by the configured trend"
    per_year = [k["by_year"][str(y)]["reports"] for y in range(2019, 2027)]
    assert per_year[0] < per_year[1] < per_year[2] < per_year[3], "adoption of Hue-S grows, then plateaus"
    assert max(per_year[3:7]) / min(per_year[3:7]) < 1.15
    channels = k["channels"]
    assert channels["app"] > 0.6 * N and min(channels["web"], channels["hotline"], channels["open311"]) > 0
    assert k["hotline_in"] == round(HUE_CALLS_IN * N / HUE_REPORTS)
    assert k["hotline_out"] == round(HUE_CALLS_OUT * N / HUE_REPORTS)


def test_on_time_share_and_trend_are_configurable(ctx, storms: pd.DataFrame) -> None:
    h = generate(ctx, storms, count=8000, on_time_share=0.7, on_time_trend=0.0)
    by_year = h.manifest["kpis"]["by_year"]
    for year in ("2021", "2022", "2023", "2024"):
        assert by_year[year]["on_time_pct"] == pytest.approx(70.0, abs=4.0), year


def test_units_differ(history: ReportHistory, categories: pd.DataFrame) -> None:
    r = history.reports
    done = r["resolved_at"].notna()
    unit = routed_unit(r, categories)
    on_time = ((r["resolved_at"] <= r["due_at"]) & (r["extension_status"] != "approved"))[done]
    share = on_time.groupby(unit[done]).agg(["mean", "size"])
    share = share[share["size"] >= 100]["mean"]
    assert share.max() - share.min() > 0.15, "units are not all alike"


def test_rhythms_of_day_week_and_year(history: ReportHistory) -> None:
    local = history.reports["received_at"].dt.tz_convert(ICT)
    hour = local.dt.hour.value_counts(normalize=True)
    assert hour[[0, 1, 2, 3, 4]].sum() < 0.05 and hour[[8, 9, 10]].sum() > 0.18
    weekday = local.dt.day_of_week.value_counts()
    assert weekday[0] > 1.3 * weekday[6], "Mondays are busier than Sundays"


def test_flood_and_fallen_tree_surge_in_october_november(history: ReportHistory) -> None:
    r = history.reports
    month = r["received_at"].dt.tz_convert(ICT).dt.month
    weather = r["category"].isin(["drainage_flooding", "fallen_tree"])
    share = weather.groupby(month).mean()
    assert share[[10, 11]].mean() > 2.0 * share[[3, 4, 5]].mean()


def test_storms_near_hue_bring_a_surge(history: ReportHistory, storms: pd.DataFrame) -> None:
    """More drainage/fallen-tree reports in the 5 days after a storm passed within 100 km than a week before."""
    r = history.reports
    weather = r[r["category"].isin(["drainage_flooding", "fallen_tree"])]
    day = weather["received_at"].dt.tz_convert(ICT).dt.normalize()
    near = storms[(storms["closest_km"] <= 100) & (storms["closest_at"] >= pd.Timestamp("2019-01-01", tz="UTC"))]
    assert len(near) >= 5
    after = before = 0
    for closest in near["closest_at"]:
        d = pd.Timestamp(closest).tz_convert(ICT).normalize()
        after += int(((day >= d) & (day < d + timedelta(days=5))).sum())
        before += int(((day >= d - timedelta(days=12)) & (day < d - timedelta(days=7))).sum())
    assert after > 1.5 * before


def near_repeat_share(reports: pd.DataFrame, *, radius_m: float = 50, days: float = 30) -> float:
    """Share of reports with a same-category report within ``radius_m`` in the ``days`` before."""
    xy = shapely.get_coordinates(to_utm(np.asarray(reports.geometry.values)))
    tree = shapely.STRtree(shapely.points(xy))
    i, j = tree.query(shapely.points(xy), predicate="dwithin", distance=radius_m)
    t = epoch_seconds(reports["received_at"])
    category = reports["category"].to_numpy()
    gap = t[i] - t[j]
    hit = (i != j) & (category[i] == category[j]) & (gap > 0) & (gap <= days * 86400)
    return len(np.unique(i[hit])) / len(reports)


def test_problems_recur_at_the_same_spots(history: ReportHistory) -> None:
    real = near_repeat_share(history.reports)
    shuffled = history.reports.assign(
        received_at=history.reports["received_at"].sample(frac=1, random_state=3).to_numpy()
    )
    baseline = near_repeat_share(shuffled)
    assert real > 0.12 and real > 2.5 * baseline, (real, baseline)
    # Some spots recur again and again (heavy tail), and staff merged the repeats that came in while open.
    assert history.manifest["kpis"]["duplicates"] > 0.02 * N


def stage_hours(h: ReportHistory, categories: pd.DataFrame, begin: str, end: str, how: str = "median") -> pd.Series:
    """Elapsed hours between two stage columns (median or mean), per unit the reports were routed to."""
    r = h.reports
    return ((r[end] - r[begin]).dt.total_seconds() / 3600).groupby(routed_unit(r, categories)).agg(how)


@pytest.mark.parametrize(
    ("stage", "begin", "end"),
    [("assigned", "assigned_at", "started_at"), ("in_progress", "started_at", "resolved_at")],
)
def test_injected_slow_units_show_in_dwell_times(
    ctx, storms: pd.DataFrame, categories: pd.DataFrame, history: ReportHistory, stage: str, begin: str, end: str
) -> None:
    slow = ("19753", "hepco")  # Phường Phú Xuân and the public-works company
    h = generate(ctx, storms, count=N, slow_units=slow, slow_stage=stage, slow_factor=4.0)
    assert [(u["code"], u["stage"], u["factor"]) for u in h.manifest["slow_units"]] == [
        ("19753", stage, 4.0),
        ("hepco", stage, 4.0),
    ]
    assert all(u["reports"] > 500 for u in h.manifest["slow_units"])
    before = stage_hours(history, categories, begin, end)  # same seed, nothing injected
    after = stage_hours(h, categories, begin, end)
    for code in slow:
        assert after[code] > 3.0 * before[code], (code, before[code], after[code])
    mean_ratio = stage_hours(h, categories, begin, end, "mean") / stage_hours(history, categories, begin, end, "mean")
    others = mean_ratio.drop(list(slow))
    assert others.between(0.95, 1.05).all(), "the other units keep their pace"
    ward_peers = after.drop(list(slow)).loc[lambda m: m.index.str.isdigit()]
    assert after["19753"] > 2.0 * ward_peers.median()


def test_a_slowdown_starts_on_its_day(ctx, storms: pd.DataFrame, categories: pd.DataFrame,
                                      history: ReportHistory) -> None:  # fmt: skip
    since = date(2025, 1, 1)
    h = generate(ctx, storms, count=N, slow_units=("19753",), slow_stage="assigned", slow_since=since)
    assert h.manifest["slow_units"][0]["since"] == "2025-01-01" and h.manifest["params"]["slow_since"] == "2025-01-01"
    onset = pd.Timestamp(since, tz=ICT)

    def assigned_hours(r: pd.DataFrame) -> pd.DataFrame:
        """Median hours in 'assigned' of 19753's reports received before and from the onset."""
        mine = r[routed_unit(r, categories) == "19753"]
        hours = (mine["started_at"] - mine["assigned_at"]).dt.total_seconds() / 3600
        return hours.groupby(mine["received_at"] >= onset).median()

    before, after = assigned_hours(history.reports), assigned_hours(h.reports)
    assert after[False] == pytest.approx(before[False], rel=0.02), "no change before the onset"
    assert after[True] > 3.0 * before[True]


def test_hotline_calls_link_the_reports_they_filed(history: ReportHistory) -> None:
    calls, reports = history.calls, history.reports
    inbound = calls[calls["direction"] == "in"]
    linked = inbound.dropna(subset=["report_idx"])
    filed = reports.iloc[linked["report_idx"].astype(int)]
    assert (filed["channel"] == "hotline").all()
    assert set(filed.index) == set(reports.index[reports["channel"] == "hotline"])
    assert (linked["started_at"].to_numpy() < filed["received_at"].to_numpy()).all()
    assert calls["caller_phone"].isna().all() and calls["synthetic"].all()
    assert (calls["started_at"] < pd.Timestamp(DEFAULT_UNTIL, tz=ICT)).all()


# --- the history in PostGIS (loaded by the `loaded` fixture) ---------------------------------------


def test_history_is_loaded_and_recorded(db: psycopg.Connection, loaded: Settings) -> None:
    n = db.execute("SELECT count(*) FROM citizen_reports WHERE synthetic").fetchone()
    recorded = db.execute("SELECT rows, checksum FROM layer_loads WHERE layer_id = %s", (HISTORY_ID,)).fetchone()
    assert n and recorded and n[0] == recorded[0] == 3000
    manifest = json.loads(manifest_path(loaded).read_text())
    assert manifest["checksum"] == recorded[1] and manifest["counts"]["reports"] == 3000
    counts = db.execute(
        "SELECT (SELECT count(*) FROM report_events e JOIN citizen_reports r ON r.id = e.report_id "
        "        WHERE r.synthetic AND e.at < %(until)s), "
        "       (SELECT count(*) FROM hotline_calls WHERE synthetic AND direction = 'in'), "
        "       (SELECT count(*) FROM hotline_calls WHERE synthetic AND direction = 'out'), "
        "       (SELECT count(*) FROM reporters p JOIN citizen_reports r ON r.id = p.report_id WHERE r.synthetic)",
        {"until": history_end(date.fromisoformat(manifest["period"]["until"]))},
    ).fetchone()
    assert counts == (
        manifest["counts"]["events"],
        round(HUE_CALLS_IN * 3000 / HUE_REPORTS),
        round(HUE_CALLS_OUT * 3000 / HUE_REPORTS),
        manifest["counts"]["reporters"],
    )


def test_loaded_points_route_like_intake_and_stay_off_water(db: psycopg.Connection) -> None:
    row = db.execute(
        """
        SELECT count(*) FILTER (WHERE r.admin_unit_code IS DISTINCT FROM (
                   SELECT u.code FROM admin_units u
                   WHERE u.level <> 'city' AND ST_Covers(u.geom, r.geom) ORDER BY u.code LIMIT 1)),
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM water_areas w WHERE ST_Intersects(w.geom, r.geom))),
               count(*) FILTER (WHERE c.level = 'city' AND r.escalated_at IS NULL
                                  AND r.department IS DISTINCT FROM c.department),
               count(*)
        FROM citizen_reports r JOIN report_categories c ON c.code = r.category
        WHERE r.synthetic
        """
    ).fetchone()
    assert row is not None and row[:3] == (0, 0, 0) and row[3] == 3000


def test_loaded_history_ends_on_the_day_of_setup_and_is_kept(loaded: Settings) -> None:
    """A new database's history ends today (Huế time); later setups keep that end (same checksum)."""
    until = recorded_until(loaded)
    assert until is not None and abs((until - datetime.now(TZ).date()).days) <= 1  # a run across midnight
    assert history_params(loaded).until == until
    manifest = json.loads(manifest_path(loaded).read_text())
    assert manifest["period"]["until"] == until.isoformat()


def test_loaded_history_keeps_the_workflow_and_the_figures(db: psycopg.Connection, loaded: Settings) -> None:
    until = history_end(recorded_until(loaded) or date.today())
    figures = db.execute(
        """
        SELECT 100.0 * count(*) FILTER (WHERE status IN ('resolved', 'closed', 'rejected', 'duplicate')
                                          AND due_at < %(until)s) / count(*) FILTER (WHERE due_at < %(until)s),
               100.0 * count(*) FILTER (WHERE rating >= 4) / count(rating),
               count(*) FILTER (WHERE NOT (received_at < COALESCE(assigned_at, 'infinity')
                                AND COALESCE(assigned_at, received_at) < COALESCE(started_at, 'infinity')
                                AND COALESCE(started_at, assigned_at, received_at) < COALESCE(resolved_at, 'infinity')
                                AND COALESCE(resolved_at, received_at) < COALESCE(closed_at, 'infinity')))
        FROM citizen_reports WHERE synthetic
        """,
        {"until": until},
    ).fetchone()
    assert figures is not None
    processed, satisfied, disordered = figures
    assert processed >= 97.5 and satisfied >= 92.0 and disordered == 0
    events = pd.DataFrame(
        db.execute(
            "SELECT e.report_id, e.action, e.from_status, e.to_status, r.status FROM report_events e "
            "JOIN citizen_reports r ON r.id = e.report_id WHERE r.synthetic ORDER BY e.report_id, e.at, e.id"
        ).fetchall(),
        columns=["report_id", "action", "from_status", "to_status", "status"],
    )
    for action, rows in events.groupby("action"):
        allowed = SPECIAL_FROM.get(str(action)) or STEPS[str(action)].allowed_from
        assert rows["from_status"].map(lambda s, a=allowed: (None if pd.isna(s) else s) in a).all(), action
    last = events.groupby("report_id").last()
    assert (last["to_status"] == last["status"]).all()


def snapshot(db: psycopg.Connection, end: datetime) -> tuple:
    """Synthetic codes and counts, and every live row of the four tables, as they stand."""
    return (
        sorted(r[0] for r in db.execute("SELECT code FROM citizen_reports WHERE synthetic").fetchall()),
        # Events before the history's end: the app's escalation job may add later ones at any time.
        db.execute("SELECT count(*) FROM report_events WHERE at < %s", (end,)).fetchone(),
        db.execute("SELECT * FROM citizen_reports WHERE NOT synthetic ORDER BY id").fetchall(),
        db.execute(
            "SELECT e.* FROM report_events e JOIN citizen_reports r ON r.id = e.report_id "
            "WHERE NOT r.synthetic ORDER BY e.id"
        ).fetchall(),
        db.execute("SELECT * FROM hotline_calls WHERE NOT synthetic ORDER BY id").fetchall(),
    )


def test_reload_replaces_only_the_synthetic_history(db: psycopg.Connection, loaded: Settings) -> None:
    params = history_params(loaded, count=3000)
    assert not load_history(loaded, params, progress=False).loaded, "unchanged: skipped"
    live = db.execute(
        "INSERT INTO citizen_reports (code, category, description, channel, status, admin_unit_code, geom) "
        "VALUES ('HUE-LIVETEST', 'garbage', 'Rác ở đầu kiệt, báo qua ứng dụng', 'app', 'received', '19753', "
        "ST_SetSRID(ST_MakePoint(107.5795, 16.468), 4326)) RETURNING id"
    ).fetchone()
    assert live is not None
    db.execute("INSERT INTO report_events (report_id, actor, action, to_status) VALUES (%s, 'citizen:app', "
               "'receive', 'received')", live)  # fmt: skip
    db.execute("INSERT INTO hotline_calls (direction, started_at, duration_s, operator, report_id) "
               "VALUES ('in', now(), 60, 'op', %s)", live)  # fmt: skip
    try:
        end = history_end(params.until)
        before = snapshot(db, end)
        again = load_history(loaded, params, force=True, progress=False)
        assert again.loaded and again.reports == 3000
        assert snapshot(db, end) == before, "same synthetic history, live rows untouched"
        # A live report merged into a synthetic one would lose its target: the reload refuses.
        db.execute(
            "UPDATE citizen_reports SET duplicate_of = (SELECT min(id) FROM citizen_reports WHERE synthetic) "
            "WHERE id = %s",
            live,
        )
        with pytest.raises(Conflict, match="HUE-LIVETEST"):
            load_history(loaded, params, force=True, progress=False)
        assert snapshot(db, end)[0] == before[0], "nothing changed"
    finally:
        db.execute("DELETE FROM hotline_calls WHERE report_id = %s", live)
        db.execute("DELETE FROM citizen_reports WHERE id = %s", live)


def test_ogc_serves_the_history_without_personal_data(client: httpx.Client, db: psycopg.Connection) -> None:
    page = client.get("/ogc/collections/citizen_reports/items", params={"f": "json", "limit": 1000})
    assert page.status_code == 200
    body = page.json()
    assert body["numberMatched"] >= 3000
    synthetic = [f for f in body["features"] if f["properties"]["synthetic"]]
    # The public code identifies a report (the feature id, or a property where the id is numeric).
    assert synthetic and all(CODE.match(str(f["properties"].get("code", f["id"]))) for f in synthetic)
    assert not {"description", "full_name", "email", "phone", "device_id"} & set(body["features"][0]["properties"])
    for word in PLACEHOLDER:
        assert word not in page.text
    count_2022 = db.execute(
        "SELECT count(*) FROM citizen_reports WHERE received_at >= '2022-01-01T00:00:00Z' "
        "AND received_at <= '2022-12-31T23:59:59Z'"
    ).fetchone()
    year = client.get(
        "/ogc/collections/citizen_reports/items",
        params={"f": "json", "limit": 1, "datetime": "2022-01-01T00:00:00Z/2022-12-31T23:59:59Z"},
    ).json()
    assert count_2022 and year["numberMatched"] == count_2022[0] > 200
