"""Refusals on the citizen routes carry a code per problem, each with Vietnamese and English text."""

from __future__ import annotations

import io
import json
import re

import httpx
import pytest
from PIL import Image

from api.errors import MESSAGES, message_texts
from geo.settings import Settings


def assert_coded(response: httpx.Response, status: int, codes: list[str]) -> list[dict]:
    """The response's status, its problems' codes in order, and every problem's vi and en text."""
    assert response.status_code == status, response.text
    body = response.json()
    errors = body["errors"]
    assert [e["code"] for e in errors] == codes and body["code"] == codes[0], errors
    for error in errors:
        assert error["vi"] and error["en"] and error["vi"] != error["en"], error
        assert error["message"], error  # the developer's text stays
    return errors


def test_every_code_has_vietnamese_and_english_text(loaded: Settings) -> None:
    vi, en = message_texts("vi", loaded), message_texts("en", loaded)
    assert set(vi) == set(en) == set(MESSAGES)
    for code in MESSAGES:
        assert vi[code] and en[code] and vi[code] != en[code] and "{" not in vi[code] + en[code], code


def test_the_portal_shows_the_same_texts(client: httpx.Client, loaded: Settings) -> None:
    for lang in ("vi", "en"):
        page = client.get("/portal", params={"lang": lang}).text
        found = re.search(r'<script type="application/json" id="portal-config">(.*?)</script>', page, re.S)
        assert found is not None
        assert json.loads(found[1])["text"]["errors"] == message_texts(lang, loaded)


def test_intake_names_every_refused_field(client: httpx.Client) -> None:
    report = {"category": "garbage", "description": "ngắn", "reporter_phone": "0" * 40}  # no lon, no lat
    errors = assert_coded(client.post("/api/reports", json=report), 400,
                          ["description_length", "location", "contact_length"])  # fmt: skip
    assert [e["field"] for e in errors] == ["description", "lon", "reporter_phone"]
    assert errors[1]["en"] == "Drop a pin on the map or use your location."


def test_intake_reports_every_problem_of_a_form_at_once(client: httpx.Client) -> None:
    photo = io.BytesIO()
    Image.new("RGB", (8, 8)).save(photo, "JPEG")
    fields = {"category": "garbage", "description": "          mô tả", "lon": "107.585", "lat": "16.463"}
    files = [("photos", ("that.jpg", photo.getvalue(), "image/jpeg")),
             ("photos", ("fake.jpg", b"\xff\xd8\xff" + b"no photo" * 10, "image/jpeg")),
             ("photos", ("anh.gif", b"GIF89a" + b"\x00" * 100, "image/gif"))]  # fmt: skip
    errors = assert_coded(client.post("/api/reports", data=fields, files=files), 400,
                          ["description_length", "photo_type", "photo_type"])  # fmt: skip
    assert [e["field"] for e in errors] == ["description", "photos", "photos"]
    assert "fake.jpg" in errors[1]["message"] and "anh.gif" in errors[2]["message"]
    assert errors[1]["vi"] == "Ảnh phải là JPEG, PNG hoặc WebP."
    fields["description"] = "Rác thải chất đống ở đầu hẻm"  # the photos alone, found by intake itself
    assert_coded(client.post("/api/reports", data=fields, files=files), 400, ["photo_type", "photo_type"])


def test_outside_the_city_is_coded(client: httpx.Client) -> None:
    report = {"category": "garbage", "description": "Rác thải ngoài biển khơi", "lon": 108.6, "lat": 17.0}
    errors = assert_coded(client.post("/api/reports", json=report), 400, ["outside_city"])
    assert "ngoài Thành phố Huế" in errors[0]["vi"] and "outside" in errors[0]["en"]


def test_rating_refusals_are_coded(client: httpx.Client) -> None:
    errors = assert_coded(client.post("/api/reports/HUE-AAAAAAAA/rating", json={"rating": 9, "comment": "x" * 2001}),
                          422, ["rating_range", "comment_length"])  # fmt: skip
    assert [e["field"] for e in errors] == ["rating", "comment"]
    assert_coded(client.post("/api/reports/HUE-AAAAAAAA/rating", json={"rating": 4}), 403, ["follow_token"])
    assert_coded(client.post("/api/reports/HUE-AAAAAAAA/rating", json={"rating": 4, "token": "not-the-token"}),
                 403, ["follow_token"])  # fmt: skip


def test_follow_up_of_a_malformed_code_is_coded(client: httpx.Client) -> None:
    (error,) = assert_coded(client.get("/api/reports/no such code!"), 422, ["report_code"])
    assert error["field"] == "code" and "HUE-" in error["en"]


@pytest.mark.parametrize("body", ["{", "[]"])
def test_a_broken_json_body_is_coded_too(client: httpx.Client, body: str) -> None:
    response = client.post(
        "/api/reports/HUE-AAAAAAAA/rating", content=body, headers={"Content-Type": "application/json"}
    )
    assert_coded(response, 422, ["invalid_field"])
