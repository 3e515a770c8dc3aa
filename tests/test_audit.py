"""The audit trail: a report's whole life in report_events, every other staff write in audit_log."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

import auth_helpers
import httpx
import psycopg
from disaster_fixtures import SQUARE, now, zone_body

from geo.reports.intake import follow_token
from geo.settings import Settings

CITADEL = (107.5795, 16.4680)  # Phường Phú Xuân
PHU_XUAN = "19753"


def test_the_trail_of_a_report_life(client: httpx.Client, loaded: Settings,
                                    staff_headers: Callable[..., dict[str, str]]) -> None:  # fmt: skip
    """File → assign → start → request_extension → approve → resolve → rate (which closes it)."""
    officer = staff_headers("ward_officer", unit=PHU_XUAN)
    head = staff_headers("unit_head", unit=PHU_XUAN)
    filed = client.post("/api/reports", json={"category": "garbage", "description": "Rác tồn đọng trước cổng chợ",
                                              "lon": CITADEL[0], "lat": CITADEL[1]})  # fmt: skip
    code = filed.json()["code"]
    steps = [
        (officer, {"action": "assign"}),
        (officer, {"action": "start"}),
        (officer, {"action": "request_extension", "note": "Chờ xe ép rác", "hours": 8}),
        (head, {"action": "approve_extension"}),
        (officer, {"action": "resolve", "note": "Đã thu gom sạch"}),
    ]
    for headers, body in steps:
        response = client.post(f"/api/reports/{code}/actions", json=body, headers=headers)
        assert response.status_code == 200, response.text
    token = follow_token(code, loaded.secret_key)
    assert client.post(f"/api/reports/{code}/rating", json={"token": token, "rating": 5}).json()["status"] == "closed"

    trail = client.get(f"/api/staff/reports/{code}", headers=officer).json()["events"]
    officer_name = auth_helpers.account_name("ward_officer", PHU_XUAN)
    head_name = auth_helpers.account_name("unit_head", PHU_XUAN)
    assert [(e["action"], e["actor"], e["details"].get("role"), e["from_status"], e["to_status"]) for e in trail] == [
        ("receive", "citizen:web", None, None, "received"),
        ("assign", officer_name, "ward_officer", "received", "assigned"),
        ("start", officer_name, "ward_officer", "assigned", "in_progress"),
        ("request_extension", officer_name, "ward_officer", "in_progress", "in_progress"),
        ("approve_extension", head_name, "unit_head", "in_progress", "in_progress"),
        ("resolve", officer_name, "ward_officer", "in_progress", "resolved"),
        ("rate", "citizen", None, "resolved", "closed"),
    ]  # fmt: skip
    times = [datetime.fromisoformat(e["at"]) if isinstance(e["at"], str) else e["at"] for e in trail]
    assert all(a < b for a, b in itertools.pairwise(times)), times
    # The public timeline shows the same steps, without who took them.
    public = client.get(f"/api/reports/{code}").text
    assert officer_name not in public and head_name not in public


def test_disaster_zone_edits_are_in_the_audit_log(client: httpx.Client, loaded: Settings,
                                                  db: psycopg.Connection) -> None:  # fmt: skip
    officer = auth_helpers.staff_headers(loaded, "emergency_officer", username="audit.duty")
    start = db.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    zone = client.post("/api/disasters", json=zone_body(SQUARE), headers=officer).json()
    assert client.patch(f"/api/disasters/{zone['id']}", json={"severity": "Extreme", "note": "Nước lên"},
                        headers=officer).status_code == 200  # fmt: skip
    assert (
        client.post(f"/api/disasters/{zone['id']}/cancel", json={"note": "Nước rút"}, headers=officer).status_code
        == 200
    )
    onset = (now() + timedelta(days=2)).isoformat()
    exercise = client.post("/api/disasters/exercises/flood", headers=officer,
                           json={"return_period_years": 20, "onset": onset, "hours": 12})  # fmt: skip
    assert exercise.status_code == 201, exercise.text
    refused = client.patch(f"/api/disasters/{zone['id']}", json={"severity": "Minor"},
                           headers=auth_helpers.staff_headers(loaded, "gis_admin"))  # fmt: skip
    assert refused.status_code == 403
    try:
        rows = db.execute(
            "SELECT actor, role, action, object_type, object_id, details, at FROM audit_log "
            "WHERE actor = 'audit.duty' AND at >= %s ORDER BY id",
            (start,),
        ).fetchall()
        assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
            ("audit.duty", "emergency_officer", "zone_create", "disaster_zone", str(zone["id"])),
            ("audit.duty", "emergency_officer", "zone_update", "disaster_zone", str(zone["id"])),
            ("audit.duty", "emergency_officer", "zone_cancel", "disaster_zone", str(zone["id"])),
            ("audit.duty", "emergency_officer", "flood_exercise", "disaster_zone", str(exercise.json()["id"])),
        ]
        assert rows[1][5] == {"fields": ["severity"], "note": "Nước lên"}
        assert all(a[6] <= b[6] for a, b in itertools.pairwise(rows))
        # The CAP messages (public) name the role; the audit log the person. A refused edit wrote nothing.
        messages = db.execute("SELECT msg_type, actor FROM disaster_messages WHERE zone_id = %s ORDER BY version",
                              (zone["id"],)).fetchall()  # fmt: skip
        role = "emergency_officer"
        assert messages == [("Alert", role), ("Update", role), ("Cancel", role)]
    finally:
        db.execute("DELETE FROM disaster_zones WHERE id = ANY(%s)", ([zone["id"], exercise.json()["id"]],))


def test_failed_sign_ins_are_audited(client: httpx.Client, db: psycopg.Connection) -> None:
    response = client.post("/api/auth/token", data={"username": "audit.intruder", "password": "guess-guess-guess"})
    assert response.status_code == 401
    row = db.execute("SELECT role, details->>'reason', details ? 'client' FROM audit_log "
                     "WHERE action = 'login_failed' AND actor = 'audit.intruder'").fetchone()  # fmt: skip
    assert row == ("anonymous", "unknown user", True)
