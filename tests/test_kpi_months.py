"""Whole-month KPIs summed from kpi_unit_month equal the KPIs read from the reports; writes mark their
unit-months, which are read from the reports until the kpi-months job has recomputed them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import psycopg
import pytest

from geo.analytics.kpis import (
    KpiFilter,
    compute_kpis,
    kpis_from_months,
    refresh_kpi_unit_month,
    refresh_touched_kpi_months,
    whole_months,
)
from geo.auth.policy import Principal
from geo.reports.intake import ReportIn, create_report
from geo.reports.workflow import apply_action
from geo.settings import Settings
from geo.times import TZ

WARD = "19753"  # Phường Phú Xuân
NOW = datetime.now(TZ)
THIS_MONTH = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)
YEAR = datetime(NOW.year - 1, 1, 1, tzinfo=TZ), datetime(NOW.year, 1, 1, tzinfo=TZ)


def run(coro):
    return asyncio.run(coro)


async def both(settings: Settings, where: KpiFilter, group_by: str) -> tuple[list[dict] | None, list[dict]]:
    """The KPIs summed from kpi_unit_month (None: it cannot answer) and read from the reports, same instant."""
    async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        summed = await kpis_from_months(conn, where=where, group_by=group_by, now=NOW)  # type: ignore[arg-type]
        direct = await compute_kpis(conn, where=where, group_by=group_by, now=NOW, from_months=False)  # type: ignore[arg-type]
        return summed, direct


@pytest.fixture(scope="module")
def built(loaded: Settings) -> Settings:
    with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
        refresh_kpi_unit_month(conn)
    return loaded


@pytest.mark.parametrize(
    ("where", "group_by"),
    [
        (KpiFilter(*YEAR), "unit"),  # the dashboard's year by unit
        (KpiFilter(*YEAR), "none"),  # the whole city
        (KpiFilter(*YEAR), "month"),
        (KpiFilter(*YEAR, level="commune"), "level"),
        (KpiFilter(LAST_MONTH, THIS_MONTH), "unit"),  # a single month
        (KpiFilter(LAST_MONTH, THIS_MONTH), "none"),
        (KpiFilter(YEAR[0], THIS_MONTH, unit=WARD), "month"),
    ],
)
def test_whole_months_from_the_table_equal_the_reports(built: Settings, where: KpiFilter, group_by: str) -> None:
    summed, direct = run(both(built, where, group_by))
    assert summed is not None, "the table should answer this period"
    assert summed == direct
    assert direct and direct[0]["received"] > 0  # the history has reports there: not an empty comparison
    if group_by == "none":
        assert direct[0]["median_hours_to_resolve"] is not None and direct[0]["backlog"] >= 0


@pytest.mark.parametrize(
    ("where", "group_by"),
    [
        (KpiFilter(LAST_MONTH + timedelta(days=1), THIS_MONTH), "unit"),  # not a whole month
        (KpiFilter(LAST_MONTH, THIS_MONTH - timedelta(hours=1)), "none"),
        (KpiFilter(*YEAR, category="garbage"), "none"),  # the table has no categories
        (KpiFilter(*YEAR), "channel"),
        (KpiFilter(*YEAR), "week"),
        (KpiFilter(datetime(1990, 1, 1, tzinfo=TZ), datetime(1990, 2, 1, tzinfo=TZ)), "none"),  # never built
    ],
)
def test_other_requests_read_the_reports(built: Settings, where: KpiFilter, group_by: str) -> None:
    summed, _ = run(both(built, where, group_by))
    assert summed is None


def test_whole_months_are_months_in_hue_time() -> None:
    assert whole_months(*YEAR) == (YEAR[0].date(), YEAR[1].date())
    utc_midnight = datetime.fromisoformat("2025-01-01T00:00:00+00:00")
    assert whole_months(utc_midnight, utc_midnight + timedelta(days=31)) is None
    assert whole_months(datetime.fromisoformat("2024-12-31T17:00:00+00:00"), YEAR[1]) is not None


def test_a_write_is_read_from_the_reports_until_its_unit_month_is_recomputed(built: Settings) -> None:
    """Intake and resolution mark the unit-month; the job recomputes that row only; never a stale figure."""
    month = KpiFilter(LAST_MONTH, THIS_MONTH)
    with psycopg.connect(built.conninfo(), autocommit=True) as conn:
        others = set(conn.execute("SELECT id FROM kpi_unit_month WHERE month = %s AND unit_code <> %s",
                                  (LAST_MONTH.date(), WARD)).fetchall())  # fmt: skip

    def unchanged_elsewhere() -> None:
        with psycopg.connect(built.conninfo(), autocommit=True) as conn:
            now_rows = set(conn.execute("SELECT id FROM kpi_unit_month WHERE month = %s AND unit_code <> %s",
                                        (LAST_MONTH.date(), WARD)).fetchall())  # fmt: skip
        assert now_rows == others  # no other unit's row of the month was rewritten

    def check(*, marked: bool) -> dict:
        summed, direct = run(both(built, month, "unit"))
        if marked:  # the month has a write the table has not seen: it is not asked
            assert summed is None
        else:
            assert summed == direct
        answered = run(compute_kpis_now(built, month))  # what the API answers, either way
        assert answered == direct
        return next(row for row in direct if row["key"] == WARD)

    async def recompute() -> dict[str, int]:
        async with await psycopg.AsyncConnection.connect(built.conninfo(), autocommit=True) as conn:
            return await refresh_touched_kpi_months(conn, now=NOW)

    before = check(marked=False)

    async def file_report(conn: psycopg.AsyncConnection) -> str:
        report = ReportIn("garbage", "Rác thải chưa được thu gom ở đầu hẻm", 107.5795, 16.468)
        result = await create_report(conn, report=report, settings=built, now=LAST_MONTH + timedelta(days=3))
        return result.code

    code = run(with_conn(built, file_report))
    try:
        filed = check(marked=True)
        assert filed["received"] == before["received"] + 1 and filed["backlog"] == before["backlog"] + 1
        assert run(recompute()) == {"months": 1, "unit_months": 1, "rows": 1}
        assert check(marked=False) == filed
        unchanged_elsewhere()

        async def resolve(conn: psycopg.AsyncConnection) -> None:
            boss = Principal("test:kpi-months", "unit_head", unit_code=WARD)
            for action, hours in (("assign", 1), ("start", 2), ("resolve", 30)):
                await apply_action(conn, code=code, action=action, principal=boss,
                                   now=LAST_MONTH + timedelta(days=3, hours=hours),
                                   note="Đã thu gom" if action == "resolve" else None)  # fmt: skip

        run(with_conn(built, resolve))
        resolved = check(marked=True)
        assert resolved["resolved"] == filed["resolved"] + 1 and resolved["backlog"] == before["backlog"]
        assert run(recompute())["unit_months"] == 1
        assert check(marked=False) == resolved
        unchanged_elsewhere()
        assert run(recompute()) == {"months": 0, "unit_months": 0, "rows": 0}  # nothing left to do
    finally:
        with psycopg.connect(built.conninfo(), autocommit=True) as conn:
            conn.execute("DELETE FROM citizen_reports WHERE code = %s", (code,))
    check(marked=True)
    run(recompute())
    assert check(marked=False) == before


def test_an_update_that_changes_no_kpi_column_marks_nothing(built: Settings) -> None:
    with psycopg.connect(built.conninfo(), autocommit=True) as conn:
        conn.execute("DELETE FROM kpi_dirty_months")
        conn.execute(
            "UPDATE citizen_reports SET result_note = result_note WHERE id = (SELECT min(id) FROM citizen_reports)"
        )
        assert conn.execute("SELECT count(*) FROM kpi_dirty_months").fetchone() == (0,)
        conn.execute("UPDATE citizen_reports SET rating = 5 WHERE id = (SELECT min(id) FROM citizen_reports WHERE "
                     "rating IS NOT NULL AND rating <> 5)")  # fmt: skip
        assert conn.execute("SELECT count(*) FROM kpi_dirty_months").fetchone() == (1,)
    run(refresh_touched(built))


def test_a_write_after_the_refresh_began_stays_marked(built: Settings) -> None:
    """The job takes off only the marks its snapshot saw: one committed meanwhile is kept for the next run."""
    with psycopg.connect(built.conninfo(), autocommit=True) as job, psycopg.connect(built.conninfo()) as writer:
        with job.transaction():
            job.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            job.execute("SELECT count(*) FROM kpi_dirty_months").fetchone()  # the snapshot is taken
            writer.execute("UPDATE citizen_reports SET rating = 6 - rating WHERE id = (SELECT min(id) FROM "
                           "citizen_reports WHERE rating IS NOT NULL AND rating <> 3)")  # fmt: skip
            writer.commit()
            job.execute("DELETE FROM kpi_dirty_months")  # what the job does: the new mark is not seen
        assert job.execute("SELECT count(*) FROM kpi_dirty_months").fetchone() == (1,)
    run(refresh_touched(built))


async def refresh_touched(settings: Settings) -> dict[str, int]:
    async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        return await refresh_touched_kpi_months(conn, now=NOW)


async def compute_kpis_now(settings: Settings, where: KpiFilter) -> list[dict]:
    async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        return await compute_kpis(conn, where=where, group_by="unit", now=NOW)


async def with_conn(settings: Settings, fn):
    async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
        return await fn(conn)
