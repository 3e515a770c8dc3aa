"""The living city: a small city of its own whose history ended ten days ago, carried on to now by the
simulator through the intake and workflow services; the app runs it when HUEGIS_SIMULATE says so."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import numpy as np
import psycopg
import pytest
from alembic import command
from app_server import app_server
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo import cluster
from geo.analytics.kpis import KpiFilter, compute_kpis
from geo.reports.workflow import OPEN_STATUSES, STEPS
from geo.schema import alembic_config
from geo.settings import Settings
from geo.times import TZ
from layers.loaders import load_layers
from layers.reports_history import history_end, history_params, load_history
from layers.simulator import CHANNELS, Simulator, arrivals_expected, course_of, next_step

DAYS = 10
# What an event may start from beyond workflow.STEPS: intake, the citizen's rating, the escalation job.
SPECIAL_FROM = {"receive": (None,), "rate": ("resolved",), "reopen": ("resolved",), "auto_escalate": OPEN_STATUSES}


@pytest.fixture(scope="module")
def city(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Wards, the catalogue and 3,000 generated reports ending ten days ago, in a database of its own."""
    if settings.external_db:
        pytest.fail("the simulator's city needs the local cluster (unset DATABASE_URL)")
    city = Settings(
        db_name=f"{settings.db_name}_city",
        pygeoapi_openapi_file=tmp_path_factory.mktemp("city") / "openapi.yml",
        history_count=3000,
        history_until=datetime.now(TZ).date() - timedelta(days=DAYS),
    )
    cluster.ensure_database(city)
    command.upgrade(alembic_config(city.sqlalchemy_url()), "heads")
    load_layers(city, only=["admin_units"])
    load_history(city, history_params(city), progress=False)
    yield city
    cluster.drop_database(settings, city.db_name)


def advance(city: Settings, until: datetime) -> dict[str, int]:
    async def run() -> dict[str, int]:
        async with await AsyncConnection.connect(city.conninfo(), autocommit=True) as conn:
            return await Simulator(city).advance(conn, until=until)

    return asyncio.run(run())


def test_the_city_lives_on_from_the_end_of_its_history(city: Settings) -> None:
    assert city.history_until is not None
    end, now = history_end(city.history_until), datetime.now(TZ).replace(microsecond=0)
    with psycopg.connect(city.conninfo(), autocommit=True) as db:
        assert db.execute("SELECT simulated_until FROM simulation_clock").fetchone() == (end,)
        open_before = db.execute(
            "SELECT count(*) FROM citizen_reports WHERE status = ANY(%s)", (list(OPEN_STATUSES),)
        ).fetchone()
        live = db.execute(
            "INSERT INTO citizen_reports (code, category, description, channel, status, admin_unit_code, "
            "received_at, geom) VALUES ('HUE-LIVECITY', 'garbage', 'Rác ở đầu kiệt chưa được thu gom', 'web', "
            "'received', '19753', %s, ST_SetSRID(ST_MakePoint(107.5795, 16.468), 4326)) RETURNING id",
            (end + timedelta(hours=1),),
        ).fetchone()
        assert live is not None

        done = advance(city, now)

        assert db.execute("SELECT simulated_until FROM simulation_clock").fetchone() == (now,)
        new = db.execute(
            "SELECT count(*), bool_and(synthetic), bool_and(channel = ANY(%s)), bool_and(admin_unit_code IS NOT NULL), "
            "bool_and(due_at > received_at), count(DISTINCT (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date), "
            "max(received_at) < %s FROM citizen_reports WHERE received_at >= %s AND code <> 'HUE-LIVECITY'",
            (list(CHANNELS), now, end),
        ).fetchone()
        assert new is not None and new[0] == done["reports"] >= DAYS // 3, new  # ~1 a day in a 3,000-report city
        assert new[1:5] == (True, True, True, True) and new[5] >= 3 and new[6]
        steps = db.execute(
            "SELECT e.action, e.from_status, e.to_status, e.actor, r.synthetic FROM report_events e "
            "JOIN citizen_reports r ON r.id = e.report_id WHERE e.at >= %s AND e.action <> 'receive' ORDER BY e.at",
            (end,),
        ).fetchall()
        assert len(steps) == done["actions"] > 0
        for action, from_status, _, actor, synthetic in steps:
            assert synthetic and (actor.startswith("sim:") or actor == "citizen"), (action, actor)
            assert from_status in (SPECIAL_FROM.get(action) or STEPS[action].allowed_from), (action, from_status)
        assert {"assign", "start", "resolve"} <= {s[0] for s in steps}
        # Each report's last event leads to its status; nothing happens in the future.
        wrong = db.execute(
            "SELECT count(*) FROM citizen_reports r JOIN LATERAL (SELECT to_status, at FROM report_events e "
            "WHERE e.report_id = r.id ORDER BY at DESC, id DESC LIMIT 1) last ON true "
            "WHERE last.to_status <> r.status OR last.at > %s",
            (now,),
        ).fetchone()
        assert wrong == (0,)
        # The history's backlog is worked off at its own pace, and a citizen's report is left alone.
        open_after = db.execute(
            "SELECT count(*) FROM citizen_reports WHERE status = ANY(%s) AND received_at < %s",
            (list(OPEN_STATUSES), end),
        ).fetchone()
        assert open_before and open_after and open_after[0] < open_before[0]
        untouched = db.execute("SELECT status, (SELECT count(*) FROM report_events WHERE report_id = %s) "
                               "FROM citizen_reports WHERE id = %s", (live[0], live[0])).fetchone()  # fmt: skip
        assert untouched == ("received", 0)
        # At the history's rhythm: staff act only in the weekday hours the history's staff did, no hour busier
        # than twice the history's busiest, resolutions per day as in the history (no burst of backlog).
        staff = "e.action NOT IN ('receive', 'rate', 'reopen', 'auto_escalate')"
        local = "e.at AT TIME ZONE 'Asia/Ho_Chi_Minh'"
        slots = (f"SELECT DISTINCT extract(isodow FROM {local}), extract(hour FROM {local}) "
                 f"FROM report_events e WHERE {staff} AND e.at {{}} %s")  # fmt: skip
        before, after = (set(db.execute(slots.format(op), (end,)).fetchall()) for op in ("<", ">="))
        assert after - before == set(), "staff steps in hours the history's staff never worked"
        busiest = (f"SELECT max(n) FROM (SELECT count(*) AS n FROM report_events e WHERE {staff} "
                   "AND e.at >= %s AND e.at < %s GROUP BY date_trunc('hour', e.at)) h")  # fmt: skip
        weeks8 = end - timedelta(weeks=8)
        history_busiest, catch_up_busiest = (
            db.execute(busiest, span).fetchone()[0] for span in ((weeks8, end), (end, now))
        )
        assert catch_up_busiest <= 2 * history_busiest, (catch_up_busiest, history_busiest)
        per_day = ("SELECT count(*) / (extract(epoch FROM %s - %s) / 86400)::float FROM report_events "
                   "WHERE action = 'resolve' AND at >= %s AND at < %s")  # fmt: skip
        history_rate, catch_up_rate = (
            db.execute(per_day, (b, a, a, b)).fetchone()[0] for a, b in ((weeks8, end), (end, now))
        )
        assert 0 < catch_up_rate <= 1.5 * history_rate, (catch_up_rate, history_rate)

        async def last_week() -> list[dict]:
            async with await AsyncConnection.connect(city.conninfo(), autocommit=True) as conn:
                return await compute_kpis(conn, where=KpiFilter(now - timedelta(days=7), now))

        (kpis,) = asyncio.run(last_week())
        assert kpis["received"] > 0 and kpis["processed"] > 0

    # A second round goes on from the clock: nothing twice.
    assert advance(city, now) == {"reports": 0, "actions": 0}


def test_arrivals_follow_the_week_and_the_day() -> None:
    monday = datetime(2026, 11, 30, tzinfo=TZ)
    week = arrivals_expected(monday, monday + timedelta(days=7), per_day=80.0)
    assert len(week) == 7 * 24 and abs(sum(p[2] for p in week) - 7 * 80.0) < 1e-6
    by_hour = {p[0].hour: p[2] for p in week[:24]}
    assert by_hour[9] > 10 * by_hour[3]
    sunday = sum(p[2] for p in week[6 * 24 :])
    assert sunday < sum(p[2] for p in week[:24])
    half = arrivals_expected(monday + timedelta(minutes=30), monday + timedelta(hours=2), per_day=80.0)
    assert [p[0].minute for p in half] == [30, 0] and abs(half[0][2] - by_hour[0] / 2) < 1e-9


def test_a_report_follows_the_course_of_a_finished_one() -> None:
    received = datetime(2026, 11, 2, 8, 0, tzinfo=TZ)  # a Monday
    events = [
        {"action": "receive", "at": received.isoformat()},
        {"action": "assign", "at": (received + timedelta(hours=1)).isoformat()},
        {"action": "start", "at": (received + timedelta(hours=2)).isoformat()},
        {"action": "request_extension", "at": (received + timedelta(hours=3)).isoformat(), "note": "Cần vật tư",
         "details": {"hours": 16}},
        {"action": "approve_extension", "at": (received + timedelta(hours=3, minutes=30)).isoformat()},
        {"action": "resolve", "at": (received + timedelta(days=1)).isoformat(), "note": "Đã thay bóng đèn"},
        {"action": "rate", "at": (received + timedelta(days=2)).isoformat(), "details": {"rating": 5}},
    ]  # fmt: skip
    course = course_of(received, events)
    new = datetime(2026, 11, 6, 16, 0, tzinfo=TZ)  # a Friday, an hour before the office closes
    report = {"status": "received", "received_at": new, "last_event_at": new, "reopened_count": 0,
              "reopened_at": None, "extension_status": None, "resolved_at": None}  # fmt: skip
    seen = []
    while (step := next_step(report, course)) is not None and len(seen) < 10:
        seen.append((step.action, step.at))
        report["last_event_at"] = step.at
        report["status"] = {"assign": "assigned", "start": "in_progress", "resolve": "resolved", "rate": "closed"}.get(
            step.action, report["status"]
        )
        if step.action == "request_extension":
            assert step.hours == 16 and step.note == "Cần vật tư"
            report["extension_status"] = "requested"
        if step.action == "approve_extension":
            report["extension_status"] = "approved"
        if step.action == "resolve":
            report["resolved_at"] = step.at
    actions = [a for a, _ in seen]
    assert actions == ["assign", "start", "request_extension", "approve_extension", "resolve", "rate"]
    # In working hours: an hour after receipt is still Friday; two hours later is Monday morning.
    assert seen[0][1] == new + timedelta(hours=1) and seen[1][1] == datetime(2026, 11, 9, 8, 0, tzinfo=TZ)
    assert seen[-1][1] == seen[-2][1] + timedelta(days=1)


def test_simulation_is_off_outside_development_and_switchable() -> None:
    secrets = {"secret_key": "s" * 48, "open311_api_keys": []}  # what a production start insists on
    assert Settings(environment="development", simulate=None).simulating  # None: the environment decides
    assert not Settings(environment="production", simulate=None, **secrets).simulating
    assert Settings(environment="test", simulate=True, **secrets).simulating
    assert not Settings(environment="development", simulate=False).simulating


def test_the_app_runs_the_simulator_when_asked(city: Settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    with psycopg.connect(city.conninfo(), autocommit=True) as db:
        # A run of this week exists: the app does not start the (minutes long) weekly hot-spot analyses.
        db.execute("INSERT INTO hotspot_runs (actor, period, cell_m, chosen_model) VALUES ('test', 'week', 250, 'gbm')")
        db.execute("UPDATE simulation_clock SET simulated_until = now() - interval '2 hours'")
        env = {**os.environ, "HUEGIS_DB_NAME": city.db_name, "HUEGIS_PYGEOAPI_OPENAPI": str(city.pygeoapi_openapi),
               "HUEGIS_SIMULATE": "true", "HUEGIS_SIMULATE_INTERVAL_S": "1"}  # fmt: skip
        with app_server(env, tmp_path_factory.mktemp("city-app") / "uvicorn.log") as app:
            assert httpx.get(f"{app.url}/healthz", timeout=10).status_code == 200
            for _ in range(120):
                row = db.execute(
                    "SELECT now() - simulated_until < interval '1 minute' FROM simulation_clock"
                ).fetchone()
                if row and row[0]:
                    break
                time.sleep(0.5)
            assert row == (True,), "the app caught the clock up"


def test_hotline_calls_and_near_duplicates_as_the_city_files_them(city: Settings) -> None:
    """A hotline model is filed by an operator with the call logged, and called back when resolved; a
    duplicate model repeats a recent open report inside its radius, intake flags it and staff mark it."""
    from geo.db import load_sql
    from layers.simulator import Step

    monday = datetime.now(TZ).replace(hour=8, minute=0, second=0, microsecond=0)
    monday -= timedelta(days=monday.weekday() + 7)  # last week's Monday, 08:00: office hours
    garbage = {"category": "garbage", "description": "Rác thải tập kết sai nơi quy định", "lon": 107.5795,
               "lat": 16.468, "channel": "web", "duplicate": False}  # fmt: skip

    async def run() -> tuple[str, str, str, dict[str, str]]:
        async with await AsyncConnection.connect(city.conninfo(), autocommit=True) as conn:
            sim, rng = Simulator(city), np.random.default_rng(7)
            codes = []
            for minutes, model in ((0, garbage), (5, {**garbage, "channel": "hotline", "lon": 107.59}),
                                   (10, {**garbage, "duplicate": True})):  # fmt: skip
                assert await sim._file(conn, rng, model, monday + timedelta(minutes=minutes)) == 1
                row = await (await conn.execute("SELECT code FROM citizen_reports ORDER BY id DESC LIMIT 1")).fetchone()
                assert row is not None
                codes.append(row[0])
            flagged = dict(sim.near_duplicates)
            async with conn.cursor(row_factory=dict_row) as cur:  # the hotline report, resolved by its officer
                await cur.execute(load_sql("simulation/open_reports"))
                report = next(r for r in await cur.fetchall() if r["code"] == codes[1])
            for hours, action in enumerate(("assign", "start", "resolve"), start=1):
                at = monday + timedelta(hours=hours)
                assert await sim._apply(conn, rng, report, Step(action, at, note="Đã xử lý xong."), at)
            await sim._work(conn, rng, monday, monday + timedelta(hours=4))  # the duplicate is marked
            return codes[0], codes[1], codes[2], flagged

    _, hotline_code, duplicate_code, flagged = asyncio.run(run())
    with psycopg.connect(city.conninfo(), autocommit=True) as db:
        calls = db.execute(
            "SELECT c.direction, c.synthetic, c.operator LIKE 'sim:hotline-op-%%', c.duration_s > 0, r.channel, "
            "r.synthetic FROM hotline_calls c JOIN citizen_reports r ON r.id = c.report_id WHERE r.code = %s "
            "ORDER BY c.started_at",
            (hotline_code,),
        ).fetchall()
        assert calls == [("in", True, True, True, "hotline", True), ("out", True, True, True, "hotline", True)]
        assert list(flagged) == [duplicate_code]
        marked = db.execute(
            "SELECT d.status, o.code, d.synthetic, "
            "ST_DWithin(d.geom::geography, o.geom::geography, c.duplicate_radius_m) "
            "FROM citizen_reports d JOIN citizen_reports o ON o.id = d.duplicate_of "
            "JOIN report_categories c ON c.code = d.category WHERE d.code = %s",
            (duplicate_code,),
        ).fetchone()
        assert marked == ("duplicate", flagged[duplicate_code], True, True)
