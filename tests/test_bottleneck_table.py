"""The bottleneck job: it fills ``bottleneck_results`` on the test database with the flags the
detection computes on request, the API answers the dashboard's periods from it, a write makes it refresh."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
import psycopg
import pytest
from job_helpers import first_run
from test_operations import Bottlenecks, bottlenecks  # noqa: F401  (the module's fixture: slow units in early 2016)
from typer.testing import CliRunner

from cli.main import app as cli
from geo.analytics.bottleneck_table import DEFAULTS, refresh_bottlenecks, standard_periods
from geo.analytics.bottlenecks import Flag, detect_bottlenecks, flag_to_dict
from geo.db import create_pool
from geo.settings import Settings, get_settings
from geo.times import TZ

AS_OF = datetime(2016, 4, 5, 9, 30, tzinfo=TZ)  # the job as it ran on that day: March 2016 holds the slowdowns
MARCH_END = "2016-04-01T00:00:00+07:00"
MARCH: dict[str, str | int] = {"at": MARCH_END, "window_days": 31}  # what dashboard.js asks for March 2016


def test_standard_periods_are_what_the_dashboard_asks_for() -> None:
    now = datetime(2026, 12, 6, 9, 30, tzinfo=TZ)
    assert [(p.key, p.at, p.window_days, p.running) for p in standard_periods(now, 2)] == [
        ("now/7", now, 7, True),  # the month so far: 6 days, at least 7
        ("now/180", now, 180, True),  # the API's default window
        ("2026-11", datetime(2026, 12, 1, tzinfo=TZ), 30, False),
        ("2026-10", datetime(2026, 11, 1, tzinfo=TZ), 31, False),
    ]
    january = standard_periods(datetime(2026, 1, 20, 23, 0, tzinfo=TZ), 1)
    assert [(p.key, p.window_days) for p in january] == [("now/20", 20), ("now/180", 180), ("2025-12", 31)]


def with_pool(settings: Settings, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    """``fn(pool)`` on a pool of the test database, as the app's job gets it."""

    async def go() -> Any:
        pool = create_pool(settings)
        await pool.open()
        try:
            return await fn(pool)
        finally:
            await pool.close()

    return asyncio.run(go())


@pytest.fixture
def empty_table(db: psycopg.Connection) -> Iterator[None]:
    """No stored detection before or after (the suite's other tests compute on request)."""
    db.execute("DELETE FROM bottleneck_results")
    yield
    db.execute("DELETE FROM bottleneck_results")


def refresh(loaded: Settings, now: datetime | None = AS_OF, months: int = 2) -> list[str]:
    return with_pool(loaded, lambda pool: refresh_bottlenecks(pool, months=months, max_age_s=3600, now=now))


def stored(db: psycopg.Connection) -> dict[str, tuple]:
    rows = db.execute("SELECT key, window_days, running, reports_version, computed_at, flags FROM bottleneck_results")
    return {r[0]: r[1:] for r in rows.fetchall()}


def version(db: psycopg.Connection) -> int:
    row = db.execute("SELECT version FROM layer_versions WHERE layer_id = 'citizen_reports'").fetchone()
    assert row is not None
    return row[0]


def test_the_job_fills_the_table_with_the_flags_computed_on_request(
    bottlenecks: Bottlenecks,  # noqa: F811
    loaded: Settings,
    db: psycopg.Connection,
    empty_table: None,
) -> None:
    def lead(pool: Any) -> Awaitable[tuple[int, int]]:
        job = lambda: refresh_bottlenecks(pool, months=2, max_age_s=3600, now=AS_OF)  # noqa: E731
        return first_run(loaded.conninfo(), "bottlenecks", job, timeout_s=120)

    runs, failures = with_pool(loaded, lead)
    assert runs >= 1 and failures == 0
    table = stored(db)
    assert sorted(table) == sorted(["now/7", "now/180", "2016-03", "2016-02"])
    assert table["2016-03"][:3] == (31, False, version(db)) and table["now/180"][:2] == (180, True)

    async def march(pool: Any) -> list[dict]:
        async with pool.connection() as conn:
            at = datetime.fromisoformat(MARCH_END)
            flags = await detect_bottlenecks(conn, now=at, settings=replace(DEFAULTS, window_days=31))
        return [flag_to_dict(f) for f in flags]

    on_request = with_pool(loaded, march)
    assert table["2016-03"][4] == on_request  # the same flags, in the same order
    assert {f["handler"] for f in on_request} >= {bottlenecks.slow_ward, bottlenecks.slower_department}


def test_the_api_answers_from_the_table_and_a_write_refreshes_it(
    bottlenecks: Bottlenecks,  # noqa: F811
    loaded: Settings,
    db: psycopg.Connection,
    empty_table: None,
    client: httpx.Client,
) -> None:
    computed = client.get("/api/bottlenecks", params=MARCH).json()
    assert computed["source"] == "request"  # nothing stored yet
    assert sorted(refresh(loaded)) == sorted(["now/7", "now/180", "2016-03", "2016-02"])
    body = client.get("/api/bottlenecks", params=MARCH).json()
    march = stored(db)["2016-03"]
    assert body["source"] == "table" and body["flags"] == march[4] == computed["flags"]
    assert datetime.fromisoformat(body["computed_at"]) == march[3] and not body["reports_changed_since"]
    assert datetime.fromisoformat(body["as_of"]) == datetime.fromisoformat(MARCH_END)
    # Other settings, or a period the table does not hold: computed on request, as before.
    assert client.get("/api/bottlenecks", params={**MARCH, "alpha": 0.1}).json()["source"] == "request"
    assert client.get("/api/bottlenecks", params={**MARCH, "window_days": 30}).json()["source"] == "request"
    assert refresh(loaded) == []  # nothing changed: nothing recomputed

    db.execute("UPDATE citizen_reports SET description = description WHERE code = 'BN-0'")  # bumps the version
    assert client.get("/api/bottlenecks", params=MARCH).json()["reports_changed_since"]
    assert sorted(refresh(loaded)) == sorted(["now/7", "now/180", "2016-03", "2016-02"])
    again = client.get("/api/bottlenecks", params=MARCH).json()
    assert again["source"] == "table" and not again["reports_changed_since"]
    assert datetime.fromisoformat(again["computed_at"]) > march[3] and stored(db)["2016-03"][2] == version(db)


def test_now_is_answered_from_the_running_periods(loaded: Settings, db: psycopg.Connection, empty_table: None,
                                                  client: httpx.Client) -> None:  # fmt: skip
    assert refresh(loaded, now=None, months=0) == [p.key for p in standard_periods(datetime.now(TZ), 0)]
    default = client.get("/api/bottlenecks").json()
    assert default["source"] == "table" and default["settings"]["window_days"] == DEFAULTS.window_days
    # The dashboard's current month: its own clock as `at`, the days so far.
    now = datetime.now(TZ)
    month_so_far: dict[str, str | int] = {"at": now.isoformat(), "window_days": max(7, now.day)}
    body = client.get("/api/bottlenecks", params=month_so_far).json()
    assert body["source"] == "table" and body["as_of"] == default["as_of"]
    # Too old to stand for now (the job stopped): computed on request instead.
    db.execute("UPDATE bottleneck_results SET at = at - interval '2 hours'")
    assert client.get("/api/bottlenecks").json()["source"] == "request"


def test_the_command_does_the_jobs_work(loaded: Settings, db: psycopg.Connection, empty_table: None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("HUEGIS_DB_NAME", loaded.db_name)
    monkeypatch.setenv("HUEGIS_BOTTLENECK_MONTHS", "1")
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(cli, ["kpis", "bottlenecks"])
        second = CliRunner().invoke(cli, ["kpis", "bottlenecks"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    keys = [p.key for p in standard_periods(datetime.now(TZ), 1)]
    assert sorted(stored(db)) == sorted(keys) and first.output.strip() == f"bottleneck_results: {', '.join(keys)}"
    assert second.output.strip() == "bottleneck_results: every period up to date"


def test_the_job_has_its_own_statement_timeout(loaded: Settings, db: psycopg.Connection, empty_table: None) -> None:
    """The job's limit holds for its statements (1 ms cancels the detection) and not beyond its
    transaction: the pool's connection keeps the requests' limit, and nothing is stored half-done."""

    async def go(pool: Any) -> tuple[str, str]:
        with pytest.raises(psycopg.errors.QueryCanceled):
            await refresh_bottlenecks(pool, months=0, max_age_s=3600, now=AS_OF, statement_timeout_ms=1)
        async with pool.connection() as conn:
            row = await (await conn.execute("SHOW statement_timeout")).fetchone()
        return row[0], f"{loaded.statement_timeout_ms // 1000}s"

    after, requests_limit = with_pool(loaded, go)
    assert after == requests_limit
    assert stored(db) == {}


def test_a_flag_without_peers_is_valid_json() -> None:
    """A backlog-growth flag has no peers' value (NaN): stored as jsonb and answered as JSON, it is null."""
    flag = Flag(handler="19753", handler_kind="ward", name_vi="Phú Xuân", name_en="Phu Xuan", metric="backlog_growth",
                stage=None, value=20, peer_value=float("nan"), own_history=3.0, volume=20, overdue=25,
                backlog_growth=9, score=2.7, p_value=1e-6)  # fmt: skip
    assert json.loads(json.dumps(flag_to_dict(flag), allow_nan=False))["peer_value"] is None
