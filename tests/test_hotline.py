"""The 1900 1075 hotline over HTTP: filing for a caller, logging calls, listing and counting them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import auth_helpers
import httpx
import psycopg
import pytest

from geo.errors import InvalidInput
from geo.reports import hotline
from geo.settings import Settings
from geo.times import TZ

CITADEL = (107.5795, 16.4680)  # Phường Phú Xuân
OUTSIDE = (106.7009, 10.7769)  # Hồ Chí Minh City
CALLER = ("Lê Văn Gọi Điện", "0234 3822 111")


OPERATOR = "lan.operator"  # a HueIOC hotline operator's account


@pytest.fixture
def staff(loaded: Settings) -> dict[str, str]:
    return auth_helpers.staff_headers(loaded, "operator", username=OPERATOR)


def report_body(marker: str, **extra: Any) -> dict[str, Any]:
    return {"category": "drainage_flooding", "description": f"Nước ngập tới đầu gối trước nhà số 12 ({marker})",
            "lon": CITADEL[0], "lat": CITADEL[1], "duration_s": 185, **extra}  # fmt: skip


def written(db: psycopg.Connection, marker: str) -> tuple[int, int]:
    """Reports whose description and calls whose note carry the marker."""
    row = db.execute(
        "SELECT (SELECT count(*) FROM citizen_reports WHERE description LIKE %(m)s), "
        "(SELECT count(*) FROM hotline_calls WHERE note LIKE %(m)s)",
        {"m": f"%{marker}%"},
    ).fetchone()
    assert row is not None
    return row


def expect(response: httpx.Response, status: int, *fragments: str) -> None:
    assert response.status_code == status, response.text
    for fragment in fragments:
        assert fragment in response.text, (fragment, response.text)


def stats(client: httpx.Client, staff: dict, **params: str) -> dict:
    response = client.get("/api/hotline/stats", params=params, headers=staff)
    assert response.status_code == 200, response.text
    return response.json()


# --- filing a report for a caller ---------------------------------------------------------------


def test_operator_files_a_report_and_the_call_in_one_go(client: httpx.Client, db: psycopg.Connection,
                                                        staff: dict, loaded: Settings) -> None:  # fmt: skip
    marker = uuid.uuid4().hex[:10]
    body = report_body(marker, caller_name=CALLER[0], caller_phone=CALLER[1], note=f"gọi lúc mưa to {marker}")
    response = client.post("/api/hotline/reports", json=body, headers={**staff, "Idempotency-Key": marker})
    assert response.status_code == 201, response.text
    filed = response.json()
    code = filed["code"]
    assert filed["status"] == "received" and filed["department"] == "so_xay_dung"
    assert filed["admin_unit"]["name"] == "Phường Phú Xuân" and filed["follow_token"]
    call = filed["call"]
    assert call["report_code"] == code and call["direction"] == "in" and call["duration_s"] == 185
    assert call["operator"] == OPERATOR and call["caller_phone"] == CALLER[1]

    row = db.execute(
        "SELECT r.channel, p.full_name, p.phone, c.operator, c.direction, c.report_id = r.id, "
        "abs(extract(epoch FROM (r.received_at - c.started_at)) - 185) < 5 "
        "FROM citizen_reports r JOIN reporters p ON p.report_id = r.id JOIN hotline_calls c ON c.report_id = r.id "
        "WHERE r.code = %s",
        (code,),
    ).fetchall()
    assert row == [("hotline", CALLER[0], CALLER[1], OPERATOR, "in", True, True)]

    # The operator's retry (same Idempotency-Key) gets the same report and call, and writes nothing.
    retry = client.post("/api/hotline/reports", json=body, headers={**staff, "Idempotency-Key": marker})
    assert retry.status_code == 200 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["code"] == code and retry.json()["call"]["id"] == call["id"]
    assert written(db, marker) == (1, 1)

    # The caller is never public.
    public = client.get(f"/api/reports/{code}").text + client.get("/open311/v2/requests/" + code + ".xml").text
    assert CALLER[0] not in public and CALLER[1] not in public and OPERATOR not in public
    # Drainage is the construction department's: its officers see the caller, the operator does not.
    handler = auth_helpers.staff_headers(loaded, "department_officer", department="so_xay_dung")
    staff_view = client.get(f"/api/staff/reports/{code}", headers=handler).json()
    assert staff_view["reporter"]["phone"] == CALLER[1] and staff_view["channel"] == "hotline"
    assert client.get(f"/api/staff/reports/{code}", headers=staff).json()["reporter"] is None


def test_hotline_needs_an_operator(client: httpx.Client, db: psycopg.Connection, loaded: Settings) -> None:
    marker = uuid.uuid4().hex[:10]
    assert client.post("/api/hotline/reports", json=report_body(marker)).status_code == 401
    bad = {"Authorization": "Bearer wrong"}
    assert client.post("/api/hotline/calls", json={"direction": "in", "duration_s": 1}, headers=bad).status_code == 401
    assert client.get("/api/hotline/calls").status_code == 401
    leader = auth_helpers.staff_headers(loaded, "city_leader")
    assert client.post("/api/hotline/reports", json=report_body(marker), headers=leader).status_code == 403
    system = auth_helpers.key_headers(loaded, "hotline_system")  # the call system's API key may log calls
    assert client.get("/api/hotline/calls", headers=system).status_code == 200
    assert client.get("/api/hotline/stats").status_code == 200  # public aggregate counts, no caller data
    assert written(db, marker) == (0, 0)


def test_bad_filings_are_refused_and_write_nothing(client: httpx.Client, db: psycopg.Connection,
                                                   staff: dict) -> None:  # fmt: skip
    marker = uuid.uuid4().hex[:10]
    later = (datetime.now(TZ) + timedelta(hours=2)).isoformat()
    cases: list[tuple[dict[str, Any], int, tuple[str, ...]]] = [
        ({"category": "unicorns"}, 400, ("unknown category", "unicorns")),
        ({"lon": OUTSIDE[0], "lat": OUTSIDE[1]}, 400, ("outside Thành phố Huế",)),
        ({"description": "ngập"}, 400, ("description must be 10-4000 characters",)),
        ({"duration_s": -5}, 422, ("duration_s", "greater than or equal to 0")),
        ({"direction": "sideways"}, 422, ("direction",)),
        ({"started_at": later}, 400, ("started_at", "in the future")),
        ({"caller_phone": "call me maybe"}, 400, ("caller_phone",)),
        ({"lat": 123}, 422, ("lat",)),
    ]
    for fields, status, fragments in cases:
        body = report_body(marker, note=f"call {marker}", **fields)
        expect(client.post("/api/hotline/reports", json=body, headers=staff), status, *fragments)
    assert written(db, marker) == (0, 0)


def test_report_and_call_are_one_transaction(loaded: Settings, db: psycopg.Connection) -> None:
    """If the call cannot be written, the report is not either (a CHECK added for this test blocks the call)."""
    marker = uuid.uuid4().hex[:10]
    db.execute(f"ALTER TABLE hotline_calls ADD CONSTRAINT test_block_{marker} CHECK (note <> 'block {marker}')")
    try:

        async def file() -> None:
            async with await psycopg.AsyncConnection.connect(loaded.conninfo()) as conn:
                call = hotline.CallIn(direction="in", duration_s=60, operator=OPERATOR, note=f"block {marker}")
                await hotline.file_report(conn, category="garbage", description=f"Rác thải ngập lối đi {marker}",
                                          lon=CITADEL[0], lat=CITADEL[1], call=call, settings=loaded)  # fmt: skip

        with pytest.raises(psycopg.errors.CheckViolation):
            asyncio.run(file())
    finally:
        db.execute(f"ALTER TABLE hotline_calls DROP CONSTRAINT test_block_{marker}")
    assert written(db, marker) == (0, 0)


# --- logging calls ------------------------------------------------------------------------------


def test_log_calls_in_and_out_linked_or_not(client: httpx.Client, db: psycopg.Connection, staff: dict) -> None:
    marker = uuid.uuid4().hex[:10]
    filed = client.post("/api/reports", json={"category": "garbage", "lon": CITADEL[0], "lat": CITADEL[1],
                                              "description": f"Rác thải ven sông Hương {marker}"})  # fmt: skip
    code = filed.json()["code"]
    call = {"direction": "out", "started_at": "2026-03-02T09:15:00+07:00", "duration_s": 95,
            "report_code": code.lower(), "note": f"báo kết quả cho người dân {marker}"}  # fmt: skip
    response = client.post("/api/hotline/calls", json=call, headers=staff)
    assert response.status_code == 201, response.text
    logged = response.json()
    assert logged["report_code"] == code and logged["direction"] == "out" and logged["operator"] == OPERATOR
    assert logged["started_at"] == "2026-03-02T09:15:00+07:00"

    question = {"direction": "in", "duration_s": 40, "note": f"hỏi giờ thu gom rác {marker}",
                "started_at": "2026-03-02T10:00:00"}  # fmt: skip
    asked = client.post("/api/hotline/calls", json=question, headers=staff).json()
    assert asked["report_code"] is None and asked["started_at"] == "2026-03-02T10:00:00+07:00"  # naive = Huế time

    cases: list[tuple[dict[str, Any], int, tuple[str, ...]]] = [
        ({"report_code": "HUE-NOSUCH00"}, 400, ("report_code", "HUE-NOSUCH00", "names no report")),
        ({"report_code": "not a code!"}, 400, ("names no report",)),
        ({"duration_s": -1}, 422, ("duration_s",)),
        ({"duration_s": 90_000}, 422, ("duration_s",)),
        ({"direction": "both"}, 422, ("direction",)),
        ({"direction": None}, 422, ("direction",)),
        ({"started_at": "tomorrow-ish"}, 422, ("started_at",)),
        ({"started_at": (datetime.now(TZ) + timedelta(days=1)).isoformat()}, 400, ("in the future",)),
    ]
    for fields, status, fragments in cases:
        bad = {**question, "note": f"bad {marker}", **fields}
        expect(client.post("/api/hotline/calls", json=bad, headers=staff), status, *fragments)
    assert written(db, f"bad {marker}") == (0, 0)


def test_library_checks_calls_without_the_web_layer() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=TZ)
    for call, fragment in [
        (hotline.CallIn(direction="sideways", duration_s=1, operator="x"), "direction"),
        (hotline.CallIn(direction="in", duration_s=-1, operator="x"), "duration_s"),
        (hotline.CallIn(direction="in", duration_s=1, operator=" "), "operator"),
    ]:
        with pytest.raises(InvalidInput, match=fragment):
            hotline.check_call(call, now=now)
    checked = hotline.check_call(hotline.CallIn(direction="in", duration_s=30, operator="x"), now=now)
    assert checked["started_at"] == now - timedelta(seconds=30)


# --- listing and statistics ---------------------------------------------------------------------


@pytest.fixture
def day_of_calls(client: httpx.Client, staff: dict) -> Callable[[date], dict[str, Any]]:
    """On one day: a filed report (in), a follow-up on it (out), a question (in), a call about an app report."""

    def make(day: date) -> dict[str, Any]:
        marker = uuid.uuid4().hex[:10]
        at = datetime(day.year, day.month, day.day, 8, 30, tzinfo=TZ)
        body = report_body(marker, started_at=at.isoformat(), caller_phone="0905000111")
        filed = client.post("/api/hotline/reports", json=body, headers=staff).json()
        app = client.post("/api/reports", json={"category": "noise", "lon": CITADEL[0], "lat": CITADEL[1],
                                                "description": f"Karaoke ồn ào suốt đêm {marker}"}).json()  # fmt: skip
        calls = [filed["call"]]
        for direction, hour, code in [("out", 15, filed["code"]), ("in", 9, None), ("in", 23, app["code"])]:
            call = {"direction": direction, "duration_s": 60, "report_code": code,
                    "started_at": datetime(day.year, day.month, day.day, hour, 0, tzinfo=TZ).isoformat()}  # fmt: skip
            response = client.post("/api/hotline/calls", json=call, headers=staff)
            assert response.status_code == 201, response.text
            calls.append(response.json())
        return {"calls": calls, "ids": {c["id"] for c in calls}}

    return make


def test_list_calls_by_range_and_direction(client: httpx.Client, staff: dict,
                                           day_of_calls: Callable[[date], dict[str, Any]]) -> None:  # fmt: skip
    day = date(2021, 5, 17)
    made = day_of_calls(day)

    def ids(**params: str) -> set[int]:
        response = client.get("/api/hotline/calls", params={"limit": "1000", **params}, headers=staff)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["calls"]}

    whole_day = {"from": day.isoformat(), "to": day.isoformat()}  # a date as `to` includes that day
    assert made["ids"] <= ids(**whole_day)
    outgoing = {c["id"] for c in made["calls"] if c["direction"] == "out"}
    assert made["ids"] & ids(**whole_day, direction="out") == outgoing
    assert made["ids"] & ids(**whole_day, direction="in") == made["ids"] - outgoing
    morning = {"from": f"{day}T00:00:00+07:00", "to": f"{day}T12:00:00+07:00"}
    assert made["ids"] & ids(**morning) == {c["id"] for c in made["calls"] if c["started_at"] < f"{day}T12"}
    assert not made["ids"] & ids(**{"from": (day + timedelta(days=1)).isoformat()})

    listed = client.get("/api/hotline/calls", params=whole_day, headers=staff).json()
    first = next(c for c in listed["calls"] if c["id"] in made["ids"])
    assert set(first) >= {"direction", "started_at", "duration_s", "operator", "report_code", "caller_phone"}
    for params, status, fragment in [
        ({"from": "2021-05-18", "to": "2021-05-17"}, 400, "must be before"),
        ({"from": "last tuesday"}, 400, "from must be a date"),
        ({"direction": "up"}, 422, "direction"),
        ({"limit": "0"}, 422, "limit"),
    ]:
        expect(client.get("/api/hotline/calls", params=params, headers=staff), status, fragment)


def test_stats_count_calls_per_day_and_month_and_the_share_that_became_reports(
    client: httpx.Client, staff: dict, day_of_calls: Callable[[date], dict[str, Any]]
) -> None:
    day = date(2020, 2, 11)
    window = {"from": "2020-02-10", "to": "2020-02-12"}
    before = stats(client, staff, **window)
    month_before = stats(client, staff, **{"from": "2020-01-01", "to": "2020-03-31", "by": "month"})
    day_of_calls(day)
    after = stats(client, staff, **window)

    assert [p["period"] for p in after["series"]] == ["2020-02-10", "2020-02-11", "2020-02-12"]  # zeros listed
    delta = {k: after["totals"][k] - before["totals"][k] for k in ("in", "out", "calls", "became_reports")}
    # Of four calls, only the one that filed the hotline report became a report: the follow-up on it
    # and the call about a report filed in the app did not.
    assert delta == {"in": 3, "out": 1, "calls": 4, "became_reports": 1}
    on_day = {p["period"]: p for p in after["series"]}["2020-02-11"]
    assert on_day["report_share"] == round(on_day["became_reports"] / on_day["calls"], 4)
    assert after["totals"]["calls"] == after["totals"]["in"] + after["totals"]["out"]

    months = stats(client, staff, **{"from": "2020-01-01", "to": "2020-03-31", "by": "month"})
    assert [p["period"] for p in months["series"]] == ["2020-01", "2020-02", "2020-03"]
    feb = {p["period"]: p["calls"] for p in months["series"]}["2020-02"]
    assert feb - {p["period"]: p["calls"] for p in month_before["series"]}["2020-02"] == 4


def test_stats_use_hue_days(client: httpx.Client, staff: dict) -> None:
    """A call at 23:30 in Huế is on that day; one at 17:30 UTC is 00:30 the next day in Huế."""
    before = stats(client, staff, **{"from": "2019-07-01", "to": "2019-07-02"})
    for started_at in ("2019-07-01T23:30:00+07:00", "2019-07-01T17:30:00Z"):
        call = {"direction": "in", "duration_s": 30, "started_at": started_at}
        assert client.post("/api/hotline/calls", json=call, headers=staff).status_code == 201
    after = stats(client, staff, **{"from": "2019-07-01", "to": "2019-07-02"})
    gained = [a["calls"] - b["calls"] for a, b in zip(after["series"], before["series"], strict=True)]
    assert gained == [1, 1]


def test_stats_refuse_bad_ranges(client: httpx.Client, staff: dict) -> None:
    for params, status, fragment in [
        ({"from": "2020-03-01", "to": "2020-02-01"}, 400, "must be before"),
        ({"to": "someday"}, 400, "to must be a date"),
        ({"by": "week"}, 422, "by"),
        ({"from": "1990-01-01", "to": "2026-01-01"}, 400, "by=month"),
    ]:
        expect(client.get("/api/hotline/stats", params=params, headers=staff), status, fragment)
    assert client.get("/api/hotline/stats", params={"from": "1990-01-01", "to": "2026-01-01", "by": "month"},
                      headers=staff).status_code == 200  # fmt: skip
