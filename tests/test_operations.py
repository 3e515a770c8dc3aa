"""KPIs against hand-computed values, the KPI layer, bottleneck detection, API errors."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import httpx
import pandas as pd
import psycopg
import pytest

from geo.analytics.bottlenecks import (
    BottleneckSettings,
    Inputs,
    benjamini_hochberg,
    detect_bottlenecks,
    find_bottlenecks,
)
from geo.analytics.kpis import SHAPE_TOLERANCE_M, KpiFilter, compute_kpis, refresh_kpi_unit_month
from geo.auth.policy import Principal
from geo.errors import InvalidInput
from geo.reports.intake import ReportIn, create_report
from geo.reports.workflow import apply_action
from geo.settings import Settings
from geo.times import TZ

WARD = "19753"  # Phường Phú Xuân
JAN_2015 = (datetime.fromisoformat("2015-01-01T00:00:00+07:00"), datetime.fromisoformat("2015-02-01T00:00:00+07:00"))

# code, status, received, due, resolved, closed, extension, rating, reopened
FIXTURE = [
    ("KPI-ONTIME", "closed", "2015-01-05 08:00", "2015-01-07 17:00", "2015-01-05 18:00", "2015-01-06", None, 5, 0),
    (
        "KPI-EXTEND",
        "closed",
        "2015-01-06 08:00",
        "2015-01-12 17:00",
        "2015-01-07 14:00",
        "2015-01-08",
        "approved",
        4,
        0,
    ),
    ("KPI-LATE", "closed", "2015-01-07 08:00", "2015-01-08 08:00", "2015-01-09 10:00", "2015-01-10", None, 2, 1),
    ("KPI-REJECT", "rejected", "2015-01-08 08:00", "2015-01-10 17:00", None, None, None, None, 0),
    ("KPI-OVERDUE", "in_progress", "2015-01-09 08:00", "2015-01-12 17:00", None, None, "requested", None, 0),
    ("KPI-OPEN", "received", "2015-01-30 08:00", "2099-01-01 17:00", None, None, None, None, 0),
]


def run(coro):
    return asyncio.run(coro)


async def with_conn(settings: Settings, fn):
    async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        return await fn(conn)


@pytest.fixture(scope="module")
def kpi_history(loaded: Settings) -> Iterator[Settings]:
    with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
        for code, status, received, due, resolved, closed, extension, rating, reopened in FIXTURE:
            conn.execute(
                "INSERT INTO citizen_reports (code, category, description, channel, status, admin_unit_code, "
                "responsible_level, received_at, due_at, resolved_at, closed_at, extension_status, extension_hours, "
                "rating, reopened_count, synthetic, geom) VALUES (%s, 'garbage', 'Fixture report for KPIs', 'app', "
                "%s, %s, 'ward', %s::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh', "
                "%s::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh', %s::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh', "
                "%s::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh', %s, CASE WHEN %s::text IS NULL THEN NULL ELSE 8 END, "
                "%s, %s, true, ST_SetSRID(ST_MakePoint(107.5795, 16.468), 4326))",
                (code, status, WARD, received, due, resolved, closed, extension, extension, rating, reopened),
            )
    yield loaded
    with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
        conn.execute("DELETE FROM citizen_reports WHERE code LIKE 'KPI-%'")


def test_kpis_match_hand_computed_values(kpi_history: Settings) -> None:
    where = KpiFilter(*JAN_2015, unit=WARD)
    (row,) = run(with_conn(kpi_history, lambda c: compute_kpis(c, where=where)))
    assert row["received"] == 6
    assert row["processed"] == 4 and row["processed_share"] == pytest.approx(4 / 6)
    assert (row["resolved"], row["on_time"], row["late_with_extension"], row["late"]) == (3, 1, 1, 1)
    assert row["on_time_share"] == pytest.approx(1 / 3)
    assert row["rated"] == 3 and row["satisfied"] == 2
    assert row["satisfied_share"] == pytest.approx(2 / 3)
    assert row["mean_rating"] == pytest.approx(11 / 3)
    assert row["reopened"] == 1 and row["reopened_share"] == pytest.approx(1 / 6)
    assert row["backlog"] == 2 and row["overdue"] == 1
    # Hours to resolve: 10, 30 and 50: median 30, 90th percentile (linear) 46.
    assert row["median_hours_to_resolve"] == pytest.approx(30)
    assert row["p90_hours_to_resolve"] == pytest.approx(46)
    assert row["backlog_over_30d"] == 2


def test_zero_reports_give_zeros_and_undefined_shares(kpi_history: Settings) -> None:
    where = KpiFilter(datetime.fromisoformat("2014-01-01T00:00:00+07:00"),
                      datetime.fromisoformat("2014-02-01T00:00:00+07:00"), unit=WARD)  # fmt: skip
    (row,) = run(with_conn(kpi_history, lambda c: compute_kpis(c, where=where)))
    assert row["received"] == 0 and row["backlog"] == 0
    assert row["processed_share"] is None and row["satisfied_share"] is None and row["mean_rating"] is None


def test_no_ratings_leave_satisfaction_undefined(kpi_history: Settings) -> None:
    where = KpiFilter(datetime.fromisoformat("2015-01-08T00:00:00+07:00"), JAN_2015[1], unit=WARD)
    (row,) = run(with_conn(kpi_history, lambda c: compute_kpis(c, where=where)))
    assert row["received"] == 3 and row["rated"] == 0
    assert row["satisfied_share"] is None and row["mean_rating"] is None


def test_grouping_by_month_and_category(kpi_history: Settings) -> None:
    where = KpiFilter(*JAN_2015, unit=WARD)
    rows = run(with_conn(kpi_history, lambda c: compute_kpis(c, where=where, group_by="month")))
    assert [(r["key"], r["received"]) for r in rows] == [("2015-01", 6)]
    rows = run(with_conn(kpi_history, lambda c: compute_kpis(c, where=where, group_by="category")))
    assert [(r["key"], r["received"]) for r in rows] == [("garbage", 6)]


def test_kpi_layer_is_refreshed_and_published(kpi_history: Settings, client: httpx.Client) -> None:
    with psycopg.connect(kpi_history.conninfo(), autocommit=True) as conn:
        assert refresh_kpi_unit_month(conn) > 0
        row = conn.execute(
            "SELECT received, processed, on_time, overdue, "
            "       ST_HausdorffDistance(ST_Transform(k.geom, 32648), ST_Transform(u.geom, 32648)) <= %s + 0.5, "
            "       ST_NPoints(k.geom) < ST_NPoints(u.geom) "
            "FROM kpi_unit_month k JOIN admin_units u ON u.code = k.unit_code "
            "WHERE unit_code = %s AND month = '2015-01-01'",
            (SHAPE_TOLERANCE_M, WARD),
        ).fetchone()
        # Simplified, and still a coverage: neighbours do not overlap and no gap opens between them.
        coverage = conn.execute(
            "WITH k AS (SELECT DISTINCT ON (unit_code) geom FROM kpi_unit_month), "
            "a AS (SELECT ST_Union(geom) AS g FROM k), b AS (SELECT ST_Union(geom) AS g FROM admin_units "
            "WHERE level <> 'city') "
            "SELECT (SELECT sum(ST_Area(geom::geography)) FROM k) - (SELECT ST_Area(g::geography) FROM a), "
            "(SELECT sum(ST_NumInteriorRings(d.geom)) FROM a, ST_Dump(a.g) d), "
            "(SELECT sum(ST_NumInteriorRings(d.geom)) FROM b, ST_Dump(b.g) d)"
        ).fetchone()
    assert row == (6, 4, 1, 1, True, True)
    assert coverage is not None and abs(coverage[0]) < 1 and coverage[1] == coverage[2], coverage  # m², holes
    items = client.get("/ogc/collections/kpi_unit_month/items",
                       params={"f": "json", "datetime": "2015-01-01", "limit": 100}).json()  # fmt: skip
    mine = [f for f in items["features"] if f["properties"]["unit_code"] == WARD]
    assert mine and mine[0]["properties"]["received"] == 6


def test_kpi_api(kpi_history: Settings, client: httpx.Client) -> None:
    body = client.get("/api/kpis", params={"start": "2015-01-01", "end": "2015-02-01", "unit": WARD}).json()
    assert body["groups"][0]["received"] == 6
    assert body["previous"]["groups"][0]["received"] == 0
    assert (body["period"]["working_days"], body["previous"]["period"]["working_days"]) == (22, 23)  # Jan, Dec 2014
    by_unit = client.get("/api/kpis", params={"month": "2015-01", "group_by": "unit"}).json()
    assert next(g for g in by_unit["groups"] if g["key"] == WARD)["received"] == 6
    unit = client.get(f"/api/kpis/units/{WARD}", params={"month": "2015-01"}).json()
    assert unit["kpis"]["received"] == 6 and unit["by_category"][0]["key"] == "garbage"


def test_kpis_as_of_a_past_instant_replay_the_audit_trail(loaded: Settings) -> None:
    """On the generated history: each report counts in the state its events gave it at that instant."""
    with psycopg.connect(loaded.conninfo()) as conn:
        # Within the generated history: reports other tests file now would pull the instant to the present.
        row = conn.execute(
            "SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY received_at) FROM citizen_reports WHERE synthetic"
        )
        at = row.fetchone()[0]  # type: ignore[index]
        start = at - timedelta(days=365)
        rows = conn.execute(
            "SELECT e.report_id, e.at, e.to_status, e.action, e.details, r.status, r.due_at FROM report_events e"
            " JOIN citizen_reports r ON r.id = e.report_id WHERE r.received_at >= %s AND r.received_at <= %s"
            " ORDER BY e.report_id, e.at, e.id",
            (start, at),
        ).fetchall()
    done = {"resolved", "closed", "rejected", "duplicate"}
    then: dict[int, list] = {}  # report -> [status then, status now, deadline then]
    for report, when, status, action, details, status_now, due in rows:
        state = then.setdefault(report, ["received", status_now, due])
        if when <= at:
            state[0] = status
        elif action == "approve_extension":  # not yet extended then
            state[2] = datetime.fromisoformat(details["previous_due_at"])
    processed = sum(s[0] in done for s in then.values())
    later = sum(s[1] in done and s[0] not in done for s in then.values())
    overdue = sum(s[0] not in done and s[2] < at for s in then.values())
    assert later >= 3, "the instant must fall while reports are still being handled"
    where = KpiFilter(start, at + timedelta(days=30))  # reports received after `at` do not count then
    (past,) = run(with_conn(loaded, lambda c: compute_kpis(c, where=where, as_of=at)))
    (present,) = run(with_conn(loaded, lambda c: compute_kpis(c, where=KpiFilter(start, at + timedelta(seconds=1)))))
    assert past["received"] == present["received"] == len(then)
    assert past["processed"] == processed and past["backlog"] == len(then) - processed
    assert past["resolved"] == sum(s[0] in ("resolved", "closed") for s in then.values())
    assert past["overdue"] == overdue
    assert present["processed"] - past["processed"] == later  # processed since: open back then


def test_previous_month_is_seen_as_long_after_its_start(loaded: Settings, client: httpx.Client) -> None:
    """A report of last month resolved after the comparison instant counts as open in the comparison."""
    now = datetime.now(TZ)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (month_start - timedelta(days=1)).strftime("%Y-%m")
    elapsed = now - month_start
    previous_start = datetime.fromisoformat(f"{last_month}-01T00:00:00+07:00")
    seen = previous_start + elapsed  # the instant last month is compared as of

    def kpis(**params: str) -> dict:
        return client.get("/api/kpis", params={"unit": WARD, **params}).json()

    before, before_present = kpis(month=now.strftime("%Y-%m")), kpis(month=last_month, compare=False)

    async def handle(conn: psycopg.AsyncConnection) -> str:
        report = ReportIn("garbage", "Rác thải chưa được thu gom ở đầu hẻm", 107.5795, 16.468)
        result = await create_report(conn, report=report, settings=loaded, now=previous_start + elapsed / 4)
        assert result.report is not None and result.report["responsible_level"] == "ward"
        boss = Principal("test:kpi-as-of", "unit_head", unit_code=WARD)
        for action, at in (("assign", elapsed / 3), ("start", elapsed / 2), ("resolve", elapsed + (now - seen) / 2)):
            await apply_action(conn, code=result.code, action=action, principal=boss, now=previous_start + at,
                               note="Đã thu gom" if action == "resolve" else None)  # fmt: skip
        return result.code

    code = run(with_conn(loaded, handle))
    try:
        after, after_present = kpis(month=now.strftime("%Y-%m")), kpis(month=last_month, compare=False)
    finally:
        with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
            conn.execute("DELETE FROM citizen_reports WHERE code = %s", (code,))
    assert abs(datetime.fromisoformat(after["previous"]["as_of"]) - seen) < timedelta(minutes=1)
    assert after["previous"]["period"]["start"] == previous_start.isoformat()
    was, now_ = before["previous"]["groups"][0], after["previous"]["groups"][0]
    assert (now_["received"], now_["backlog"], now_["processed"]) == (was["received"] + 1, was["backlog"] + 1,
                                                                      was["processed"])  # fmt: skip
    was, now_ = before_present["groups"][0], after_present["groups"][0]
    assert (now_["received"], now_["backlog"], now_["processed"]) == (was["received"] + 1, was["backlog"],
                                                                      was["processed"] + 1)  # fmt: skip
    figures = ("received", "processed", "backlog")  # this month's own: as they are now, unchanged
    assert [after["groups"][0][f] for f in figures] == [before["groups"][0][f] for f in figures]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"start": "2015-13-01"}, 400, "start must be a date"),
        ({"end": "yesterday"}, 400, "end must be a date"),
        ({"start": "2015-02-01", "end": "2015-01-01"}, 400, "must be after start"),
        ({"month": "2015-1"}, 400, "month must be YYYY-MM"),
        ({"month": "2015-01", "start": "2015-01-01"}, 400, "either month or start/end"),
        ({"unit": "99999"}, 404, "no ward or commune with code '99999'"),
        ({"group_by": "colour"}, 422, "group_by"),
        ({"as_of": "2199-01-01"}, 400, "as_of (2199-01-01T00:00:00+07:00) is in the future"),
        ({"as_of": "soon"}, 400, "as_of must be a date"),
    ],
)
def test_kpi_api_rejects_bad_input(client: httpx.Client, params: dict, status: int, message: str) -> None:
    response = client.get("/api/kpis", params=params)
    assert response.status_code == status
    assert message in str(response.json()["detail"])


def test_unknown_unit_is_404(client: httpx.Client) -> None:
    response = client.get("/api/kpis/units/99999")
    assert response.status_code == 404 and "99999" in response.json()["detail"]
    for code in ("A0140", "Z9999"):  # the shape of a national copy's code: looked up, not refused
        assert client.get(f"/api/kpis/units/{code}").status_code == 404


@pytest.mark.parametrize(("name", "value"), [("category", "Garbage"), ("category", "nosuch"), ("channel", "zzz")])
def test_a_kpi_filter_naming_nothing_is_refused(client: httpx.Client, name: str, value: str) -> None:
    """A typo is a 400 naming it, not a period with no reports."""
    response = client.get("/api/kpis", params={"month": "2025-06", name: value})
    assert response.status_code == 400 and f"unknown {name} {value!r}" in response.json()["detail"], response.text


def test_bottlenecks_in_the_future_are_refused(client: httpx.Client) -> None:
    response = client.get("/api/bottlenecks", params={"at": "2030-01-01"})
    assert response.status_code == 400 and "at (2030-01-01" in response.json()["detail"], response.text


def test_a_malformed_unit_code_is_refused_as_a_unit_code(client: httpx.Client) -> None:
    """Not as a report code (a path parameter named like the report's was read as one)."""
    response = client.get("/api/kpis/units/nosuch")
    assert response.status_code == 422
    problem = response.json()["errors"][0]
    assert problem["field"] == "unit_code" and problem["code"] != "report_code" and "HUE-" not in problem["en"]


# --- bottlenecks --------------------------------------------------------------------------


BN_AT = datetime.fromisoformat("2016-03-20T00:00:00+07:00")  # window: the 90 days before
BN_WINDOW = BottleneckSettings(window_days=90)
BN_INSERT = (
    "INSERT INTO citizen_reports (code, category, description, channel, status, admin_unit_code, responsible_level, "
    "department, received_at, assigned_at, started_at, resolved_at, due_at, synthetic, geom) VALUES (%s, %s, "
    "'Fixture report for bottlenecks', 'app', 'resolved', %s, %s, %s, %s, %s, %s, %s, %s, true, "
    "ST_SetSRID(ST_MakePoint(107.58, 16.46), 4326))"
)


@dataclass(frozen=True)
class Bottlenecks:
    """The fixture's cast: who is slow where, who is only naturally slow, who is too small to judge."""

    slow_ward: str  # 6 days in 'assigned' in the window, 1 day the year before and at its peers
    small_ward: str  # as slow, but only 5 reports in the window (min_volume is 8)
    slow_department: str = "so_xay_dung"  # 'in progress' 5 days in both periods: its categories take long
    slower_department: str = "huewaco"  # 'in progress' 1 day the year before, 4 days in the window


@pytest.fixture(scope="module")
def bottlenecks(loaded: Settings) -> Iterator[Bottlenecks]:
    """Reports in 2015 (history) and early 2016 (window) for 13 wards and 4 city departments."""
    with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
        wards = [r[0] for r in conn.execute(
            "SELECT code FROM admin_units WHERE level = 'ward' ORDER BY code LIMIT 13").fetchall()]  # fmt: skip
        cast = Bottlenecks(slow_ward=wards[3], small_ward=wards[12])
        rng = random.Random(42)
        rows = []

        def add(category: str, ward: str, department: str | None, received: datetime, assigned_days: float,
                progress_days: float) -> None:  # fmt: skip
            assigned = received + timedelta(hours=2)
            started = assigned + timedelta(days=assigned_days * rng.uniform(0.7, 1.3))
            resolved = started + timedelta(days=progress_days * rng.uniform(0.7, 1.3))
            level = "city" if department else "ward"
            rows.append((f"BN-{len(rows)}", category, ward, level, department, received, assigned, started, resolved,
                         received + timedelta(days=20)))  # fmt: skip

        window = [datetime.fromisoformat("2016-01-05T08:00:00+07:00") + timedelta(days=2 * n) for n in range(30)]
        history = [datetime.fromisoformat("2015-03-02T08:00:00+07:00") + timedelta(days=9 * n) for n in range(30)]
        for ward in wards[:12]:
            for t in history:
                add("garbage", ward, None, t, 1, 1)
            for t in window:
                add("garbage", ward, None, t, 6 if ward == cast.slow_ward else 1, 1)
        for t in window[:5]:
            add("garbage", cast.small_ward, None, t, 6, 1)
        departments = {cast.slow_department: ("road_damage", 5, 5), cast.slower_department: ("water_supply", 1, 4),
                       "hepco": ("street_lighting", 1, 1), "dien_luc_hue": ("electricity", 0.5, 0.5)}  # fmt: skip
        for department, (category, before, now) in departments.items():
            for t in history:
                add(category, wards[0], department, t, 0.2, before)
            for t in window:
                add(category, wards[0], department, t, 0.2, now)
        with conn.cursor() as cur:
            cur.executemany(BN_INSERT, rows)
    yield cast
    with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
        conn.execute("DELETE FROM citizen_reports WHERE code LIKE 'BN-%'")


def test_slow_stage_is_flagged_with_its_reasons(bottlenecks: Bottlenecks, loaded: Settings) -> None:
    flags = run(with_conn(loaded, lambda c: detect_bottlenecks(c, now=BN_AT, settings=BN_WINDOW)))
    ward = next(f for f in flags if f.handler == bottlenecks.slow_ward)
    assert (ward.metric, ward.stage, ward.volume) == ("stage_dwell", "assigned", 30)
    assert ward.value / ward.peer_value > 4 and ward.own_history and ward.value / ward.own_history > 4
    # The onset scan finds when it began: the window's reports, all within the last 90 days.
    assert ward.extra["onset_days"] == 90 and ward.extra["onsets_tried"] == len(BN_WINDOW.onsets)
    assert "'assigned' stage median 6." in ward.message_en
    # Its own past relative to the other wards then (1.0 or 1.1 days: the ward's slowdown moved their median).
    assert re.search(r"days over the last 90 days vs 1\.0 for peers and 1\.[01] in the year before", ward.message_en)
    assert "giai đoạn 'đã phân công' trung vị 6." in ward.message_vi and "365 ngày trước đó" in ward.message_vi
    assert ward.q_value <= BN_WINDOW.alpha


def test_only_real_slowdowns_are_flagged(bottlenecks: Bottlenecks, loaded: Settings) -> None:
    flags = run(with_conn(loaded, lambda c: detect_bottlenecks(c, now=BN_AT, settings=BN_WINDOW)))
    # Not the department whose categories simply take long, nor the ward with too few reports to judge.
    assert sorted((f.handler, f.stage) for f in flags) == sorted(
        [(bottlenecks.slow_ward, "assigned"), (bottlenecks.slower_department, "in_progress")]
    )
    department = next(f for f in flags if f.handler == bottlenecks.slower_department)
    assert department.handler_kind == "department" and department.own_history
    assert department.value / department.own_history > 3
    # A department alone with its categories has no peers to compare with: only its own past.
    assert department.message_en.startswith(
        f"{department.name_en}: 'in progress' stage median 3.9 days over the last 90 days vs 1.1 in the year before"
    )
    assert "for peers" not in department.message_en and department.extra["peer_ratio"] is None


def test_a_lower_minimum_volume_judges_the_small_ward(bottlenecks: Bottlenecks, loaded: Settings) -> None:
    relaxed = BottleneckSettings(window_days=90, min_volume=5)
    flags = run(with_conn(loaded, lambda c: detect_bottlenecks(c, now=BN_AT, settings=relaxed)))
    small = [f for f in flags if f.handler == bottlenecks.small_ward]
    assert [(f.stage, f.volume, f.own_history) for f in small] == [("assigned", 5, None)]  # no history: peers only
    assert "for peers," in small[0].message_en


def test_bottleneck_api(bottlenecks: Bottlenecks, client: httpx.Client) -> None:
    body = client.get("/api/bottlenecks", params={"at": "2016-03-20", "window_days": 90}).json()
    defaults = asdict(BottleneckSettings())
    assert body["settings"] == {**defaults, "onsets": list(defaults["onsets"]), "window_days": 90}
    assert {f["handler"] for f in body["flags"]} == {bottlenecks.slow_ward, bottlenecks.slower_department}
    assert {"message_en", "message_vi", "stage", "value", "peer_value", "own_history", "q_value"} <= set(
        body["flags"][0]
    )
    bad = client.get("/api/bottlenecks", params={"at": "soon"})
    assert bad.status_code == 400 and "at must be" in bad.json()["detail"]


PILE_AT = datetime.fromisoformat("2018-06-01T00:00:00+07:00")
PILE_INSERT = (
    "INSERT INTO citizen_reports (code, category, description, channel, status, admin_unit_code, responsible_level, "
    "received_at, assigned_at, started_at, resolved_at, due_at, synthetic, geom) VALUES (%s, 'garbage', "
    "'Fixture report for backlog growth', 'app', %s, %s, 'ward', %s, %s, %s, %s, %s, true, "
    "ST_SetSRID(ST_MakePoint(107.58, 16.46), 4326))"
)


@pytest.fixture(scope="module")
def pile_up(loaded: Settings) -> Iterator[tuple[str, str]]:
    """Two wards a year to mid-2018, one report a day each, done in two days against a three-day deadline.

    The first also let 10 reports of its last month sit past their deadline (the rest as quick as ever);
    the second has kept 5 reports a month open past their deadline all year (a stock, not a pile-up).
    """
    with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
        query = "SELECT code FROM admin_units WHERE level = 'ward' ORDER BY code LIMIT 2 OFFSET 13"
        wards = [r[0] for r in conn.execute(query).fetchall()]
        rows = []
        for ward in wards:
            for day in range(365):
                received = PILE_AT - timedelta(days=365 - day, hours=-8)
                assigned, started = received + timedelta(hours=2), received + timedelta(days=1)
                rows.append((f"PILE-{len(rows)}", "resolved", ward, received, assigned, started,
                             started + timedelta(days=1), received + timedelta(days=3)))  # fmt: skip
        for n in range(10):  # the pile-up: fell overdue within the last 30 days, still waiting to be started
            received = PILE_AT - timedelta(days=28 - 2 * n)
            rows.append((f"PILE-{len(rows)}", "assigned", wards[0], received, received + timedelta(hours=2), None,
                         None, received + timedelta(days=1)))  # fmt: skip
        for n in range(60):  # the stock: 5 a month fall overdue and stay open, month after month
            received = PILE_AT - timedelta(days=360 - 6 * n)
            rows.append((f"PILE-{len(rows)}", "assigned", wards[1], received, received + timedelta(hours=2), None,
                         None, received + timedelta(days=1)))  # fmt: skip
        with conn.cursor() as cur:
            cur.executemany(PILE_INSERT, rows)
    yield wards[0], wards[1]
    with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
        conn.execute("DELETE FROM citizen_reports WHERE code LIKE 'PILE-%'")


def test_a_growing_overdue_backlog_is_flagged_with_an_unchanged_pace(pile_up: tuple[str, str],
                                                                      loaded: Settings) -> None:  # fmt: skip
    piling, steady = pile_up
    flags = run(with_conn(loaded, lambda c: detect_bottlenecks(c, now=PILE_AT)))
    mine = [f for f in flags if f.handler in pile_up]
    # Only the pile-up: no stage got slower (the median report is as quick as ever) and a stock that
    # grows at its usual pace is not news.
    assert [(f.handler, f.metric, f.stage) for f in mine] == [(piling, "backlog_growth", None)]
    flag = mine[0]
    assert (flag.value, flag.own_history) == (10, 0.0)
    assert "10 reports fell overdue in the last 30 days and are still open, 0.0 in a usual 30 days before" in (
        flag.message_en
    )
    assert "10 phản ánh quá hạn trong 30 ngày qua chưa xử lý xong" in flag.message_vi
    assert steady not in {f.handler for f in flags}


def test_benjamini_hochberg_matches_the_textbook_example() -> None:
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.20])
    # Sorted p 0.01, 0.03, 0.04, 0.20 → p·m/rank 0.04, 0.06, 0.0533, 0.20 → running minimum from the top.
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])


def overdue_rows(overdue: int) -> Inputs:
    """Five wards with 100 reports each of one category; the first has ``overdue`` overdue and open, the others none."""
    wards = [f"w{n}" for n in range(5)]
    backlog = pd.DataFrame(
        [(w, "ward", "c", 100, overdue if w == "w0" else 0, 0, 0, 0) for w in wards],
        columns=["handler", "handler_kind", "category", "received", "recent_overdue", "open_now", "overdue",
                 "open_at_start"],
    )  # fmt: skip
    inflow = pd.DataFrame([(w, k, 0) for w in wards for k in range(7)], columns=["handler", "k", "fell_overdue"])
    stages = pd.DataFrame(columns=["handler", "handler_kind", "category", "stage", "received_ago", "entered_ago",
                                   "left_ago"])  # fmt: skip
    return Inputs(stages, backlog, inflow, {})


def test_overdue_work_needs_reports_beyond_the_expected_not_only_a_ratio() -> None:
    # 4 overdue against 0.5 expected: a ratio of 8 and p 0.002, but only 3.5 reports beyond the expected.
    assert find_bottlenecks(overdue_rows(4), BottleneckSettings()) == []
    assert [f.handler for f in find_bottlenecks(overdue_rows(4), BottleneckSettings(min_excess=0))] == ["w0"]
    flags = find_bottlenecks(overdue_rows(12), BottleneckSettings())
    assert [(f.handler, f.metric, f.value) for f in flags] == [("w0", "overdue", 12)]


def test_negative_evidence_settings_are_refused() -> None:
    with pytest.raises(InvalidInput, match="min_excess and volume_days must not be negative"):
        BottleneckSettings(volume_days=-1)
