"""Citizen reports end to end over HTTP: intake, photos, idempotency, routing, workflow, rating, privacy."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import auth_helpers
import httpx
import psycopg
import pytest
from PIL import Image

from geo.reports.intake import follow_token
from geo.reports.sla import add_working_hours, working_days, working_hours_between
from geo.reports.workflow import STEPS
from geo.settings import Settings

CITADEL = (107.5795, 16.4680)  # Phường Phú Xuân
PHU_XUAN = "19753"
# Who acts on the reports these tests file in Phường Phú Xuân (filled for each test by `staff`): one of
# its ward officers, and its head (who alone decides extensions).
STAFF: dict[str, str] = {}
HEAD: dict[str, str] = {}
OFFICER_NAME = auth_helpers.account_name("ward_officer", PHU_XUAN)
PERSONAL = ("Nguyễn Thị Bí Mật", "0905123456", "bimat@example.vn")


def count_rows(db: psycopg.Connection) -> tuple[int, int, int]:
    row = db.execute(
        "SELECT (SELECT count(*) FROM citizen_reports), (SELECT count(*) FROM report_events), "
        "(SELECT count(*) FROM reporters)"
    ).fetchone()
    assert row is not None
    return row


def body(description: str = "Rác thải tồn đọng nhiều ngày ở góc đường", **extra: object) -> dict:
    return {"category": "garbage", "description": description, "lon": CITADEL[0], "lat": CITADEL[1], **extra}


@pytest.fixture(autouse=True)
def staff(staff_headers: Callable[..., dict[str, str]]) -> None:
    STAFF.update(staff_headers("ward_officer", unit=PHU_XUAN))
    HEAD.update(staff_headers("unit_head", unit=PHU_XUAN))


@pytest.fixture
def file_report(client: httpx.Client) -> Callable[..., dict]:
    def file(**fields: object) -> dict:
        response = client.post("/api/reports", json=body(**fields))  # type: ignore[arg-type]
        assert response.status_code == 201, response.text
        return response.json()

    return file


def act(client: httpx.Client, code: str, action: str, by: dict[str, str] | None = None,
        **fields: object) -> httpx.Response:  # fmt: skip
    """``action`` on a report, by the ward officer unless ``by`` gives someone else's headers."""
    return client.post(f"/api/reports/{code}/actions", json={"action": action, **fields}, headers=by or STAFF)


def jpeg_with_gps() -> bytes:
    """A photo carrying camera make and a GPS position in its EXIF."""
    image = Image.new("RGB", (640, 480), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (16.0, 28.0, 5.0), 3: "E", 4: (107.0, 34.0, 46.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    data = out.getvalue()
    assert b"SecretCamMaker" in data
    return data


# --- intake -----------------------------------------------------------------------------------


def test_intake_routes_to_the_ward_and_returns_a_tracking_code(client: httpx.Client, db: psycopg.Connection) -> None:
    response = client.post(
        "/api/reports", json=body(reporter_name=PERSONAL[0], reporter_phone=PERSONAL[1], reporter_email=PERSONAL[2])
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["code"].startswith("HUE-") and len(report["code"]) == 12
    assert report["status"] == "received"
    assert report["admin_unit"]["name"] == "Phường Phú Xuân"
    assert report["responsible_level"] == "ward" and report["department"] is None
    assert response.headers["location"] == f"/api/reports/{report['code']}"
    due = datetime.fromisoformat(report["due_at"])
    received = datetime.fromisoformat(report["received_at"])
    assert working_hours_between(received, due) == pytest.approx(16)  # garbage: 2 working days
    row = db.execute(
        "SELECT r.channel, p.full_name, p.phone, e.action, e.to_status FROM citizen_reports r "
        "JOIN reporters p ON p.report_id = r.id JOIN report_events e ON e.report_id = r.id WHERE r.code = %s",
        (report["code"],),
    ).fetchone()
    assert row == ("web", PERSONAL[0], PERSONAL[1], "receive", "received")


def test_city_level_category_goes_to_its_department(file_report: Callable[..., dict]) -> None:
    report = file_report(category="road_damage", description="Ổ gà sâu giữa đường, xe máy dễ ngã")
    assert report["responsible_level"] == "city"
    assert report["department"] == "so_xay_dung"
    assert report["admin_unit"]["code"]  # where it happened is always recorded


def test_multipart_intake_strips_exif_and_gps(client: httpx.Client, settings: Settings) -> None:
    photo = jpeg_with_gps()
    response = client.post(
        "/api/reports",
        data={k: str(v) for k, v in body().items()},
        files=[("photos", ("street.jpg", photo, "image/jpeg"))],
    )
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    public = client.get(f"/api/reports/{code}").json()
    assert public["photos"] == [f"/api/reports/{code}/photos/1"]
    served = client.get(public["photos"][0])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"SecretCamMaker" not in served.content
    with Image.open(io.BytesIO(served.content)) as image:
        assert len(image.getexif()) == 0
        assert image.size == (640, 480)


def test_png_and_webp_are_accepted_and_reencoded(client: httpx.Client) -> None:
    files = []
    for kind in ("PNG", "WEBP"):
        out = io.BytesIO()
        Image.new("RGB", (64, 64), (0, 128, 255)).save(out, format=kind)
        files.append(("photos", (f"x.{kind.lower()}", out.getvalue(), "application/octet-stream")))
    response = client.post("/api/reports", data={k: str(v) for k, v in body().items()}, files=files)
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    for n in (1, 2):
        assert client.get(f"/api/reports/{code}/photos/{n}").content[:3] == b"\xff\xd8\xff"


BAD_INPUTS = {
    "outside-city": (body(lon=105.85, lat=21.03), 400, "outside Thành phố Huế"),
    "in-the-sea": (body(lon=108.3, lat=16.5), 400, "outside Thành phố Huế"),
    "unknown-category": (body(category="ufo"), 400, "unknown category 'ufo'"),
    "empty-description": (body(description="   "), 400, "description must be 10-4000 characters"),
    "oversize-description": (body(description="x" * 4001), 400, "description must be 10-4000 characters"),
    "missing-fields": ({"category": "garbage"}, 400, "description"),
    "bad-coordinates": (body(lon="east"), 400, "lon"),
    "lat-out-of-range": (body(lat=123.0), 400, "lat"),
    "oversize-phone": (body(reporter_phone="0" * 40), 400, "reporter_phone"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_reports_get_a_clear_4xx_and_write_nothing(client: httpx.Client, db: psycopg.Connection,
                                                        case: str) -> None:  # fmt: skip
    payload, status, message = BAD_INPUTS[case]
    before = count_rows(db)
    response = client.post("/api/reports", json=payload)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert count_rows(db) == before


@pytest.mark.parametrize(
    ("content", "kwargs", "status", "message"),
    [
        ("not json", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ("json list", {"content": b"[1, 2]", "headers": {"content-type": "application/json"}}, 400, "JSON object"),
        ("plain text", {"content": b"hello", "headers": {"content-type": "text/plain"}}, 415, "multipart/form-data"),
    ],
)
def test_malformed_bodies(client: httpx.Client, db: psycopg.Connection, content: str, kwargs: dict, status: int,
                          message: str) -> None:  # fmt: skip
    before = count_rows(db)
    response = client.post("/api/reports", **kwargs)
    assert response.status_code == status and message in response.json()["detail"]
    assert count_rows(db) == before


@pytest.mark.parametrize(
    ("photo", "status", "message"),
    [
        (b"GIF89a" + b"\x00" * 100, 400, "is not a JPEG, PNG or WebP"),
        (b"\xff\xd8\xff" + b"garbage" * 50, 400, "cannot be decoded"),
        (b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024 + 10), 413, "larger than"),
    ],
    ids=["not-an-image", "corrupt-jpeg", "oversize"],
)
def test_bad_photos_are_refused_and_nothing_is_written(client: httpx.Client, db: psycopg.Connection,
                                                       settings: Settings, photo: bytes, status: int,
                                                       message: str) -> None:  # fmt: skip
    before = count_rows(db)
    stored_before = sorted(settings.photo_dir.glob("*")) if settings.photo_dir.exists() else []
    response = client.post("/api/reports", data={k: str(v) for k, v in body().items()},
                           files=[("photos", ("p.jpg", photo, "image/jpeg"))])  # fmt: skip
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert count_rows(db) == before
    assert (sorted(settings.photo_dir.glob("*")) if settings.photo_dir.exists() else []) == stored_before


def test_too_many_photos(client: httpx.Client, db: psycopg.Connection) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    files = [("photos", (f"{n}.png", out.getvalue(), "image/png")) for n in range(4)]
    before = count_rows(db)
    response = client.post("/api/reports", data={k: str(v) for k, v in body().items()}, files=files)
    assert response.status_code == 400 and "at most 3 photos" in response.json()["detail"]
    assert count_rows(db) == before


def test_idempotent_retry_returns_the_first_report(client: httpx.Client, db: psycopg.Connection) -> None:
    key = str(uuid.uuid4())
    first = client.post("/api/reports", json=body(), headers={"Idempotency-Key": key})
    before = count_rows(db)
    again = client.post("/api/reports", json=body(), headers={"Idempotency-Key": key})
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["code"] == first.json()["code"]
    assert again.json()["follow_token"] == first.json()["follow_token"]
    assert count_rows(db) == before
    changed = client.post("/api/reports", json=body(description="Một báo cáo hoàn toàn khác"),
                          headers={"Idempotency-Key": key})  # fmt: skip
    assert changed.status_code == 409 and "different report" in changed.json()["detail"]
    assert count_rows(db) == before


# --- routing ------------------------------------------------------------------------------------


def test_points_in_several_wards_route_to_their_ward(client: httpx.Client, db: psycopg.Connection) -> None:
    rows = db.execute(
        "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM admin_units "
        "WHERE level <> 'city' ORDER BY code LIMIT 6"
    ).fetchall()
    for unit_code, lon, lat in rows:
        response = client.post("/api/reports", json=body(lon=lon, lat=lat))
        assert response.status_code == 201, response.text
        assert response.json()["admin_unit"]["code"] == unit_code


def test_a_point_on_a_shared_boundary_routes_deterministically(client: httpx.Client, db: psycopg.Connection) -> None:
    row = db.execute(
        """
        SELECT a.code, b.code, ST_X(p), ST_Y(p) FROM admin_units a
        JOIN admin_units b ON a.code < b.code AND a.level <> 'city' AND b.level <> 'city' AND ST_Touches(a.geom, b.geom)
        CROSS JOIN LATERAL (SELECT ST_StartPoint(ST_GeometryN(ST_LineMerge(ST_CollectionExtract(
            ST_Intersection(a.geom, b.geom), 2)), 1)) AS p) x
        WHERE p IS NOT NULL AND ST_Covers(a.geom, p) AND ST_Covers(b.geom, p)
        LIMIT 1
        """
    ).fetchone()
    assert row is not None, "two neighbours share a boundary vertex"
    first_code, second_code, lon, lat = row
    units = {client.post("/api/reports", json=body(lon=lon, lat=lat)).json()["admin_unit"]["code"] for _ in range(3)}
    assert units == {min(first_code, second_code)}


def test_reroute_and_escalate_are_recorded(client: httpx.Client, file_report: Callable[..., dict],
                                           db: psycopg.Connection,
                                           staff_headers: Callable[..., dict]) -> None:  # fmt: skip
    code = file_report()["code"]
    water = staff_headers("department_officer", department="huewaco")
    assert (
        act(client, code, "reroute", note="Thuộc thẩm quyền đơn vị cấp nước", department="huewaco").status_code == 200
    )
    staff_view = client.get(f"/api/staff/reports/{code}", headers=water).json()
    assert staff_view["department"] == "huewaco" and staff_view["responsible_level"] == "city"
    again = act(client, code, "reroute", note="same", department="huewaco", by=water)
    assert again.status_code == 400 and "already responsible" in again.json()["detail"]
    back = act(client, code, "reroute", note="Trả về phường", unit_code=staff_view["admin_unit_code"], by=water)
    assert back.status_code == 200
    assert act(client, code, "escalate", note="Vượt quá khả năng của phường").status_code == 200
    twice = act(client, code, "escalate", note="again", by=staff_headers("operator"))  # may escalate any report
    assert twice.status_code == 409
    trail = client.get(f"/api/staff/reports/{code}", headers=staff_headers("operator")).json()["events"]
    water_name = auth_helpers.account_name("department_officer", department="huewaco")
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("receive", "citizen:web"), ("reroute", OFFICER_NAME), ("reroute", water_name), ("escalate", OFFICER_NAME)
    ]  # fmt: skip
    assert [e["details"].get("role") for e in trail] == [None, "ward_officer", "department_officer", "ward_officer"]
    details = db.execute(
        "SELECT details FROM report_events e JOIN citizen_reports r ON r.id = e.report_id "
        "WHERE r.code = %s AND action = 'reroute' ORDER BY e.id LIMIT 1",
        (code,),
    ).fetchone()
    assert details is not None and details[0]["to"]["department"] == "huewaco"


def test_breached_deadlines_escalate_automatically(client: httpx.Client, file_report: Callable[..., dict],
                                                   db: psycopg.Connection,
                                                   staff_headers: Callable[..., dict]) -> None:  # fmt: skip
    code = file_report()["code"]
    db.execute("UPDATE citizen_reports SET due_at = received_at - interval '10 days' + interval '1 hour', "
               "received_at = received_at - interval '10 days' WHERE code = %s", (code,))  # fmt: skip
    operator = staff_headers("operator")  # the operations centre: every queue
    queue = client.get("/api/staff/queue", params={"overdue": "true", "limit": 1000}, headers=operator)
    assert queue.status_code == 200
    mine = [r for r in queue.json() if r["code"] == code]
    assert mine and mine[0]["overdue"] and mine[0]["escalated_at"] is not None
    assert mine[0]["responsible_level"] == "city" and mine[0]["department"] == "trung_tam_ioc"
    actions = [e["action"] for e in client.get(f"/api/staff/reports/{code}", headers=operator).json()["events"]]
    assert actions.count("auto_escalate") == 1
    client.get("/api/staff/queue", headers=operator)  # evaluating again escalates nothing twice
    actions = [e["action"] for e in client.get(f"/api/staff/reports/{code}", headers=operator).json()["events"]]
    assert actions.count("auto_escalate") == 1


def test_escalation_with_nothing_overdue_writes_nothing(client: httpx.Client, db: psycopg.Connection,
                                                       staff_headers: Callable[..., dict]) -> None:  # fmt: skip
    """An UPDATE of no rows still fires the layer-version trigger: the job must not write at all then."""
    operator = staff_headers("operator")
    assert client.post("/api/staff/escalations", headers=operator).status_code == 200  # clears any backlog
    version = db.execute("SELECT version FROM layer_versions WHERE layer_id = 'citizen_reports'").fetchone()
    assert client.post("/api/staff/escalations", headers=operator).json() == {"escalated": 0}
    assert client.get("/api/staff/queue", headers=operator).status_code == 200  # the queue escalates first too
    assert db.execute("SELECT version FROM layer_versions WHERE layer_id = 'citizen_reports'").fetchone() == version


# --- workflow -----------------------------------------------------------------------------------

PATH = [("assign", {}), ("start", {}), ("resolve", {"note": "Đã thu gom rác"})]
ALL_STATUSES = ("received", "assigned", "in_progress", "resolved", "closed", "rejected", "duplicate", "reopened")


def bring_to(client: httpx.Client, code: str, status: str, other: str) -> None:
    """Walk a fresh report to ``status`` through allowed actions."""
    routes: dict[str, list[tuple[str, dict]]] = {
        "received": [],
        "assigned": PATH[:1],
        "in_progress": PATH[:2],
        "resolved": PATH,
        "closed": [*PATH, ("close", {})],
        "rejected": [("reject", {"note": "Không thuộc phạm vi"})],
        "duplicate": [("mark_duplicate", {"duplicate_of": other})],
        "reopened": PATH,
    }
    for action, fields in routes[status]:
        assert act(client, code, action, by=HEAD, **fields).status_code == 200
    if status == "reopened":
        token = follow_token(code, Settings().secret_key)  # the secret the server generated
        response = client.post(f"/api/reports/{code}/rating", json={"token": token, "rating": 1})
        assert response.json()["status"] == "reopened"


EXTRA = {"resolve": {"note": "done"}, "reject": {"note": "no"}, "reroute": {"note": "x", "department": "hepco"},
         "escalate": {"note": "x"}, "request_extension": {"note": "x", "hours": 8},
         "reject_extension": {"note": "x"}}  # fmt: skip


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_every_transition_is_allowed_or_409(client: httpx.Client, file_report: Callable[..., dict],
                                            status: str) -> None:  # fmt: skip
    other = file_report()["code"]
    for action, step in STEPS.items():
        code = file_report()["code"]
        bring_to(client, code, status, other)
        fields = dict(EXTRA.get(action, {}))
        if action == "mark_duplicate":
            fields["duplicate_of"] = other
        if action in ("approve_extension", "reject_extension") and status in step.allowed_from:
            act(client, code, "request_extension", note="x", hours=8)
        response = act(client, code, action, by=HEAD, **fields)  # the head may take every action
        if status in step.allowed_from:
            assert response.status_code == 200, (status, action, response.text)
        else:
            assert response.status_code == 409, (status, action, response.text)
            assert f"in status '{status}'" in response.json()["detail"]


def test_actions_need_a_signed_in_account(client: httpx.Client, file_report: Callable[..., dict]) -> None:
    code = file_report()["code"]
    response = client.post(f"/api/reports/{code}/actions", json={"action": "assign"})
    assert response.status_code == 401
    assert client.get("/api/staff/queue").status_code == 401


def test_missing_note_and_unknown_targets_are_400(client: httpx.Client, file_report: Callable[..., dict]) -> None:
    code = file_report()["code"]
    assert "needs a note" in act(client, code, "reject").json()["detail"]
    assert "unknown department" in act(client, code, "reroute", note="x", department="nasa").json()["detail"]
    assert "not a ward or commune" in act(client, code, "reroute", note="x", unit_code="46").json()["detail"]
    assert "names no report" in act(client, code, "mark_duplicate", duplicate_of="HUE-00000000").json()["detail"]
    assert act(client, "HUE-ZZZZZZZZ", "assign").status_code == 404
    assert act(client, code, "fly").status_code == 422


def test_extension_approved_by_the_unit_head_moves_the_deadline(client: httpx.Client,
                                                                file_report: Callable[..., dict]) -> None:  # fmt: skip
    code = file_report()["code"]
    act(client, code, "assign")
    due_before = datetime.fromisoformat(client.get(f"/api/reports/{code}").json()["due_at"])
    assert act(client, code, "approve_extension", by=HEAD).status_code == 409  # nothing requested yet
    bad = act(client, code, "request_extension", note="Chờ vật tư", hours=0)
    assert bad.status_code == 400 and "hours between" in bad.json()["detail"]
    assert act(client, code, "request_extension", note="Chờ vật tư thay thế", hours=16).status_code == 200
    assert act(client, code, "request_extension", note="again", hours=8).status_code == 409
    refused = act(client, code, "approve_extension")
    assert refused.status_code == 403 and "reports.decide_extension" in refused.json()["detail"]
    response = act(client, code, "approve_extension", by=HEAD)
    assert response.status_code == 200
    report = client.get(f"/api/reports/{code}").json()
    assert report["extension_status"] == "approved"
    assert datetime.fromisoformat(report["due_at"]) == add_working_hours(due_before, 16)
    trail = client.get(f"/api/staff/reports/{code}", headers=STAFF).json()["events"]
    head_name = auth_helpers.account_name("unit_head", PHU_XUAN)
    assert trail[-1]["actor"] == head_name and trail[-1]["details"]["hours"] == 16
    assert trail[-1]["details"]["role"] == "unit_head" and trail[-2]["actor"] == OFFICER_NAME


def test_rating_closes_or_reopens_once(client: httpx.Client, file_report: Callable[..., dict]) -> None:
    code = file_report()["code"]
    token = follow_token(code, Settings().secret_key)  # the secret the server generated
    early = client.post(f"/api/reports/{code}/rating", json={"token": token, "rating": 5})
    assert early.status_code == 409 and "once it is resolved" in early.json()["detail"]
    assert early.json()["code"] == "not_resolved" and early.json()["errors"][0]["vi"].startswith("Chỉ đánh giá")
    for action, fields in PATH:
        act(client, code, action, **fields)
    wrong = client.post(f"/api/reports/{code}/rating", json={"token": "x" * 20, "rating": 5})
    assert wrong.status_code == 403
    assert client.post(f"/api/reports/{code}/rating", json={"token": token, "rating": 9}).status_code == 422
    unhappy = client.post(f"/api/reports/{code}/rating", json={"token": token, "rating": 2, "comment": "Chưa sạch"})
    assert unhappy.json()["status"] == "reopened"
    for action, fields in [("assign", {}), *PATH[1:]]:
        assert act(client, code, action, **fields).status_code == 200
    again = client.post(f"/api/reports/{code}/rating", json={"token": token, "rating": 1})
    assert again.json()["status"] == "closed"  # reopened once already: a second low rating closes it
    report = client.get(f"/api/reports/{code}").json()
    assert report["rating"] == 1 and report["reopened_count"] == 1
    statuses = [e["to_status"] for e in report["timeline"]]
    assert statuses == ["received", "assigned", "in_progress", "resolved", "reopened", "assigned", "in_progress",
                        "resolved", "closed"]  # fmt: skip


def test_duplicate_suggestion_and_merge(client: httpx.Client, db: psycopg.Connection,
                                        staff_headers: Callable[..., dict]) -> None:  # fmt: skip
    spot = (107.6010, 16.4525)

    def lighting(description: str, lon: float, category: str = "street_lighting") -> dict:
        response = client.post("/api/reports", json=body(category=category, description=description, lon=lon,
                                                         lat=spot[1]))  # fmt: skip
        return response.json()

    first = lighting("Đèn đường không sáng cả tuần", spot[0])
    near = lighting("Cột đèn tắt, đường tối om", spot[0] + 0.0003)
    assert [d["code"] for d in near["duplicates"]] == [first["code"]]
    assert 25 < near["duplicates"][0]["distance_m"] < 40
    far = lighting("Đèn đường hỏng ở chỗ khác", spot[0] + 0.01)
    assert first["code"] not in [d["code"] for d in far["duplicates"]]
    other_category = lighting("Rác ở ngay dưới cột đèn hỏng", spot[0], category="garbage")
    assert first["code"] not in [d["code"] for d in other_category["duplicates"]]
    lighting_officer = staff_headers("department_officer", department="hepco")  # street lighting is HEPCO's
    merged = act(client, near["code"], "mark_duplicate", duplicate_of=first["code"], by=lighting_officer)
    assert merged.status_code == 200 and merged.json()["status"] == "duplicate"
    assert client.get(f"/api/reports/{near['code']}").json()["duplicate_of"] == first["code"]


# --- privacy and reads --------------------------------------------------------------------------


def test_no_public_response_contains_personal_data(client: httpx.Client) -> None:
    response = client.post("/api/reports", json=body(reporter_name=PERSONAL[0], reporter_phone=PERSONAL[1],
                                                     reporter_email=PERSONAL[2], device_id="device-42"))  # fmt: skip
    code = response.json()["code"]
    public = [
        response.text,
        client.get(f"/api/reports/{code}").text,
        client.get("/api/reports", params={"limit": 1000}).text,
        client.get("/ogc/collections/citizen_reports/items", params={"f": "json", "limit": 10000}).text,
        client.get(f"/ogc/collections/citizen_reports/items/{code}", params={"f": "json"}).text,
        client.get("/ogc/collections/citizen_reports/queryables", params={"f": "json"}).text,
    ]
    for text in public:
        for secret in (*PERSONAL, "device-42"):
            assert secret not in text
    staff_view = client.get(f"/api/staff/reports/{code}", headers=STAFF).json()
    assert staff_view["reporter"] == {"full_name": PERSONAL[0], "phone": PERSONAL[1], "email": PERSONAL[2]}


def test_public_list_is_geojson_with_filters(client: httpx.Client, file_report: Callable[..., dict]) -> None:
    code = file_report(category="noise", description="Karaoke ồn ào đến nửa đêm")["code"]
    response = client.get("/api/reports", params={"category": "noise", "bbox": "107.5,16.4,107.7,16.5"})
    assert response.headers["content-type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert code in [f["id"] for f in collection["features"]]
    assert {f["properties"]["category"] for f in collection["features"]} == {"noise"}
    bad = client.get("/api/reports", params={"bbox": "1,2,3"})
    assert bad.status_code == 400 and "bbox" in bad.json()["detail"]


def test_categories_are_bilingual_with_sla(client: httpx.Client) -> None:
    categories = client.get("/api/report-categories").json()
    assert len(categories) == 15
    lighting = next(c for c in categories if c["code"] == "street_lighting")
    assert lighting["name_vi"] == "Chiếu sáng công cộng" and lighting["level"] == "city"
    assert lighting["department_name_en"].startswith("Huế Urban Environment")
    assert all(c["sla_hours"] > 0 for c in categories)


def test_unknown_report_is_404(client: httpx.Client) -> None:
    response = client.get("/api/reports/HUE-ZZZZZZZZ")
    assert response.status_code == 404 and "no report" in response.json()["detail"]


def test_sla_counts_working_hours_only() -> None:
    friday_4pm = datetime.fromisoformat("2026-11-27T16:00:00+07:00")
    assert add_working_hours(friday_4pm, 2) == datetime.fromisoformat("2026-11-30T08:00:00+07:00")
    saturday = datetime.fromisoformat("2026-11-28T10:00:00+07:00")
    assert add_working_hours(saturday, 8) == datetime.fromisoformat("2026-11-30T17:00:00+07:00")
    lunch = datetime.fromisoformat("2026-11-30T11:00:00+07:00")
    assert add_working_hours(lunch, 1) == datetime.fromisoformat("2026-11-30T14:00:00+07:00")
    assert working_hours_between(friday_4pm, friday_4pm + timedelta(days=3)) == pytest.approx(8)  # 1 + 4.5 + 2.5
    assert json.dumps(add_working_hours(saturday, 0).isoformat())


def test_working_days_up_to_an_instant() -> None:
    """1-6 Dec 2026 as of Sunday the 6th has 4 working days, 1-6 Nov 5: the dashboard says so."""

    def days(start: str, end: str) -> int:
        return working_days(datetime.fromisoformat(f"{start}+07:00"), datetime.fromisoformat(f"{end}+07:00"))

    assert days("2026-12-01T00:00", "2026-12-06T10:44") == 4
    assert days("2026-11-01T00:00", "2026-11-06T10:44") == 5
    assert days("2026-11-01T00:00", "2026-12-01T00:00") == 21  # a whole month: its own end, not the next day
    assert days("2026-12-07T00:00", "2026-12-07T00:00") == 0


@pytest.mark.parametrize(
    ("contact", "codes"),
    [
        ({"reporter_phone": "abc", "reporter_email": "not-an-email"}, ["phone_invalid", "email_invalid"]),
        ({"reporter_phone": "123"}, ["phone_invalid"]),
        ({"reporter_phone": "+1 555 123 4567"}, ["phone_invalid"]),
        ({"reporter_phone": "0905 123 456 789"}, ["phone_invalid"]),
        ({"reporter_email": "ten@huegis"}, ["email_invalid"]),
        ({"reporter_email": "ten..ho@example.vn"}, ["email_invalid"]),
    ],
)
def test_a_wrong_phone_or_email_is_refused_and_nothing_written(client: httpx.Client, db: psycopg.Connection,
                                                               contact: dict, codes: list[str]) -> None:  # fmt: skip
    before = count_rows(db)
    for send in ({"json": body(**contact)}, {"files": {k: (None, str(v)) for k, v in body(**contact).items()}}):
        response = client.post("/api/reports", **send)  # type: ignore[arg-type]
        assert response.status_code == 400, response.text
        errors = response.json()["errors"]
        assert [e["code"] for e in errors] == codes
        assert [e["field"] for e in errors] == [f"reporter_{c.split('_')[0]}" for c in codes]
        assert all(e["vi"] and e["en"] and e["vi"] != e["en"] for e in errors)
    assert count_rows(db) == before


def test_vietnamese_phone_numbers_and_emails_are_accepted(file_report: Callable[..., dict]) -> None:
    for phone, email in [("0905 123 456", "ten@example.vn"), ("+84 905.123.456", "ten.ho+phananh@mail.hue.gov.vn"),
                         ("0234 3822 123", None), (" ", "")]:  # fmt: skip
        file_report(reporter_phone=phone, reporter_email=email)


def test_staff_actions_refuse_unknown_fields(client: httpx.Client, file_report: Callable[..., dict]) -> None:
    code = file_report()["code"]
    response = act(client, code, "assign", result_note="Đã dọn")
    assert response.status_code == 422 and "result_note" in response.text, response.text
    assert client.get(f"/api/reports/{code}").json()["status"] == "received"
    note = client.get("/openapi.json").json()["components"]["schemas"]["ActionIn"]
    assert note["additionalProperties"] is False and "citizen" in note["properties"]["note"]["description"]
