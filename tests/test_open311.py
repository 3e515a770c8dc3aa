"""Open311 GeoReport v2 over HTTP: every endpoint in JSON and XML, schema-valid, errors in the spec's shape,
no personal data in GET responses, and the PyPI ``georeport`` client against the live server."""

from __future__ import annotations

import io
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import psycopg
import pytest
from georeport import GeoReport
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from geo import open311
from geo.errors import InvalidInput
from geo.models import REPORT_STATUSES
from geo.reports.catalogue import read_catalogue
from geo.settings import Settings
from geo.times import TZ

SPECS = Path(__file__).resolve().parent / "specs" / "open311"  # vendored: tests/specs/README.md
SCHEMA_FILES = ("services.json", "service.json", "service-definition.json", "requests.json", "request.json")
BASE = "/open311/v2"
CITADEL = (107.5795, 16.4680)  # Phường Phú Xuân
OUTSIDE = (106.7009, 10.7769)  # Hồ Chí Minh City
PHU_XUAN = "19753"  # the ward of CITADEL, whose officers handle its garbage reports
# Items of each list in the spec's XML (written out here, independently of geo.open311).
XML_LISTS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


# --- schemas ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> Callable[[str], jsonschema.protocols.Validator]:
    """A validator per Open311 schema file, relative $refs resolved from the spec folder."""
    contents = {name: json.loads((SPECS / name).read_text()) for name in SCHEMA_FILES}
    swagger = json.loads((SPECS / "swagger.json").read_text())
    # The POST and token answers have no schema file of their own; the Swagger description defines them.
    for name in ("RequestResponse", "TokenResponse"):
        contents[name] = {"type": "array", "minItems": 1, "items": swagger["definitions"][name]}
    registry: Registry = Registry().with_resources(
        (name, Resource.from_contents(schema, default_specification=DRAFT202012)) for name, schema in contents.items()
    )
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(RFC3339.match(value))

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme and parts.netloc) and " " not in value

    def validator(name: str) -> jsonschema.protocols.Validator:
        return jsonschema.Draft202012Validator({"$ref": name}, registry=registry, format_checker=checker)

    return validator


def assert_valid(schemas: Callable[[str], Any], name: str, payload: Any) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in schemas(name).iter_errors(payload)]
    assert not errors, f"{name}: {errors}"


# --- XML against JSON ---------------------------------------------------------------------------


def xml_to_python(element: ET.Element) -> Any:
    """The spec's XML back into JSON's shape: known lists, dicts of children, text leaves."""
    children = list(element)
    if element.tag in XML_LISTS:
        assert all(child.tag == XML_LISTS[element.tag] for child in children), element.tag
        return [xml_to_python(child) for child in children]
    if children:
        assert len({c.tag for c in children}) == len(children), f"repeated child in <{element.tag}>"
        return {child.tag: xml_to_python(child) for child in children}
    return element.text


def as_xml_text(value: Any) -> Any:
    """What a JSON value looks like as XML text (None: an empty element)."""
    if isinstance(value, list):
        return [as_xml_text(v) for v in value]
    if isinstance(value, dict):
        return {k: as_xml_text(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def get_both(client: httpx.Client, path: str, params: dict | None = None, status: int = 200) -> tuple[Any, Any]:
    """GET ``path`` as .json and .xml; check media types, well-formed XML and the same content."""
    as_json = client.get(f"{BASE}/{path}.json", params=params)
    as_xml = client.get(f"{BASE}/{path}.xml", params=params)
    assert as_json.status_code == status, as_json.text
    assert as_xml.status_code == status, as_xml.text
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(as_xml.content)  # raises if not well-formed
    payload = as_json.json()
    assert xml_to_python(root) == as_xml_text(payload), path
    return payload, root


def expect_error(response: httpx.Response, status: int, fragment: str) -> str:
    """The spec's error list with ``status`` whose description says ``fragment``."""
    assert response.status_code == status, response.text
    if response.headers["content-type"].startswith("text/xml"):
        root = ET.fromstring(response.content)
        assert root.tag == "errors" and [c.tag for c in root] == ["error"], response.text
        code, description = root.findtext("error/code"), root.findtext("error/description") or ""
        assert code == str(status)
    else:
        body = response.json()
        assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}, body
        assert body[0]["code"] == status
        description = body[0]["description"]
    assert fragment.lower() in description.lower(), description
    return description


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def api_key(loaded: Settings) -> str:
    return loaded.open311_api_keys[0]


def post_request(client: httpx.Client, api_key: str | None, fmt: str = "json", **fields: Any) -> httpx.Response:
    data = {"service_code": "garbage", "lat": CITADEL[1], "long": CITADEL[0],
            "description": "Rác tồn đọng ở góc đường Đinh Tiên Hoàng", **fields}  # fmt: skip
    if api_key is not None:
        data["api_key"] = api_key
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


@pytest.fixture
def create(client: httpx.Client, api_key: str) -> Callable[..., str]:
    def create(**fields: Any) -> str:
        response = post_request(client, api_key, **fields)
        assert response.status_code == 200, response.text
        return response.json()[0]["service_request_id"]

    return create


def reports_with(db: psycopg.Connection, marker: str) -> int:
    row = db.execute("SELECT count(*) FROM citizen_reports WHERE description LIKE %s", (f"%{marker}%",)).fetchone()
    assert row is not None
    return row[0]


# --- pure functions -----------------------------------------------------------------------------


def test_every_workflow_status_maps_to_open_or_closed() -> None:
    assert set(open311.STATUS) == set(REPORT_STATUSES)
    assert {s for s, o in open311.STATUS.items() if o == "open"} == {"received", "assigned", "in_progress", "reopened"}


def test_attributes_are_checked_against_the_definition() -> None:
    service = {
        "code": "x",
        "attributes": [
            {"code": "size", "datatype": "singlevaluelist", "required": True, "values": [{"key": "s", "name": "S"}]},
            {"code": "tags", "datatype": "multivaluelist", "required": False,
             "values": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}]},
            {"code": "count", "datatype": "number", "required": False},
        ],
    }  # fmt: skip
    assert open311.check_attributes(service, {"size": ["s"], "tags": ["a", "b"], "count": ["3"]}) == {
        "size": "s",
        "tags": ["a", "b"],
        "count": 3.0,
    }
    for given, fragment in [
        ({}, "attribute[size] is required"),
        ({"size": ["xl"]}, "attribute[size] must be one of s"),
        ({"size": ["s"], "tags": ["c"]}, "attribute[tags] must be one of a, b"),
        ({"size": ["s"], "count": ["many"]}, "attribute[count] must be a number"),
        ({"size": ["s", "s"]}, "takes one value"),
        ({"size": ["s"], "colour": ["red"]}, "has no attribute colour"),
    ]:
        with pytest.raises(InvalidInput, match=re.escape(fragment)):
            open311.check_attributes(service, given)


def test_xml_drops_characters_xml_cannot_hold() -> None:
    body = open311.to_xml([{"code": 400, "description": "bad\x0bnote"}], root="errors")
    assert ET.fromstring(body).findtext("error/description") == "badnote"


# --- discovery, services, definitions -----------------------------------------------------------


def test_discovery_names_this_endpoint(client: httpx.Client, server: str) -> None:
    payload, _ = get_both(client, "discovery")
    (endpoint,) = payload["endpoints"]
    assert endpoint["url"] == f"{server}{BASE}"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert RFC3339.match(payload["changeset"])


def test_services_are_the_category_catalogue(client: httpx.Client, schemas: Callable) -> None:
    catalogue = read_catalogue()["categories"]
    payload, root = get_both(client, "services")
    assert_valid(schemas, "services.json", payload)
    assert [s["service_code"] for s in payload] == [c["code"] for c in catalogue]
    by_code = {s["service_code"]: s for s in payload}
    assert by_code["garbage"]["service_name"] == "Rác thải, vệ sinh môi trường"
    assert by_code["garbage"]["metadata"] is True and by_code["noise"]["metadata"] is False
    assert {s["type"] for s in payload} == {"realtime"}
    assert root.tag == "services" and root.find("service/service_code") is not None
    english, _ = get_both(client, "services", {"lang": "en"})
    assert english[0]["service_name"] == catalogue[0]["name_en"]


def test_service_definitions_carry_the_category_attributes(client: httpx.Client, schemas: Callable) -> None:
    payload, root = get_both(client, "services/garbage")
    assert_valid(schemas, "service-definition.json", payload)
    (volume,) = payload["attributes"]
    assert volume["code"] == "volume" and volume["datatype"] == "singlevaluelist" and volume["order"] == 1
    assert [v["key"] for v in volume["values"]] == ["small", "medium", "large"]
    assert root.tag == "service_definition" and root.findtext("attributes/attribute/values/value/key") == "small"
    without, _ = get_both(client, "services/noise")
    assert_valid(schemas, "service-definition.json", without)
    assert without == {"service_code": "noise", "attributes": []}
    for fmt in ("json", "xml"):
        expect_error(client.get(f"{BASE}/services/no_such_service.{fmt}"), 404, "no_such_service")


# --- create, then read back ---------------------------------------------------------------------


def test_post_round_trip_json_and_xml(client: httpx.Client, db: psycopg.Connection, api_key: str,
                                      schemas: Callable) -> None:  # fmt: skip
    marker = uuid.uuid4().hex[:10]
    personal = {"first_name": "Trần", "last_name": f"Bí Mật {marker}", "email": f"bimat.{marker}@example.vn",
                "phone": "0905 777 311", "device_id": f"device-{marker}"}  # fmt: skip
    response = post_request(
        client, api_key, description=f"Rác thải chất đống trước cổng chợ {marker}", **personal,
        media_url=f"https://photos.example.vn/{marker}.jpg", **{"attribute[volume]": "large"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    created = response.json()
    assert_valid(schemas, "RequestResponse", created)
    code = created[0]["service_request_id"]
    assert code.startswith("HUE-") and created[0]["token"] == code  # synchronous: the token is the id
    assert "16" in created[0]["service_notice"]  # garbage: 16 working hours

    # The same request posted with the .xml suffix answers in XML.
    as_xml = post_request(client, api_key, fmt="xml", description=f"Rác thải bên bờ sông {marker}")
    assert as_xml.status_code == 200 and as_xml.headers["content-type"].startswith("text/xml")
    xml_code = ET.fromstring(as_xml.content).findtext("request/service_request_id")
    assert xml_code and xml_code != code and ET.fromstring(as_xml.content).findtext("request/token") == xml_code

    # Stored as an open311 report, the person apart, the extras on the audit trail.
    row = db.execute(
        "SELECT r.channel, r.category, p.full_name, p.email, p.phone, p.device_id, e.note, e.details "
        "FROM citizen_reports r JOIN reporters p ON p.report_id = r.id "
        "JOIN report_events e ON e.report_id = r.id AND e.action = 'add_details' WHERE r.code = %s",
        (code,),
    ).fetchone()
    assert row is not None
    assert row[:6] == ("open311", "garbage", f"Trần Bí Mật {marker}", personal["email"], personal["phone"],
                       personal["device_id"])  # fmt: skip
    assert row[6] == f"https://photos.example.vn/{marker}.jpg"
    assert row[7]["attributes"] == {"volume": "large"}

    single, root = get_both(client, f"requests/{code}")
    assert_valid(schemas, "requests.json", single)
    (request,) = single
    assert_valid(schemas, "request.json", request)
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == code
    assert request["status"] == "open" and request["service_code"] == "garbage"
    assert request["agency_responsible"] == "Phường Phú Xuân"
    assert request["address"] == "Phường Phú Xuân, Thành phố Huế"
    assert request["media_url"] == f"https://photos.example.vn/{marker}.jpg"
    assert (request["lat"], request["long"]) == (CITADEL[1], CITADEL[0])
    assert request["description"] is None  # free text is not published
    requested = datetime.fromisoformat(request["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=7)
    assert datetime.fromisoformat(request["expected_datetime"]) > requested

    tokens, root = get_both(client, f"tokens/{code}")
    assert_valid(schemas, "TokenResponse", tokens)
    assert tokens == [{"service_request_id": code, "token": code}]
    expect_error(client.get(f"{BASE}/tokens/HUE-NOSUCH00.json"), 404, "token")
    expect_error(client.get(f"{BASE}/requests/HUE-NOSUCH00.xml"), 404, "HUE-NOSUCH00")

    listed, _ = get_both(client, "requests", {"service_request_id": f"{code},{xml_code}"})
    assert_valid(schemas, "requests.json", listed)
    assert {r["service_request_id"] for r in listed} == {code, xml_code}

    # No GET response, in either format, carries what the citizen told us about themselves.
    for path, params in [(f"requests/{code}", None), ("requests", {"service_request_id": code}),
                         ("requests", {"service_code": "garbage"}), (f"tokens/{code}", None)]:  # fmt: skip
        for fmt in ("json", "xml"):
            text = client.get(f"{BASE}/{path}.{fmt}", params=params).text
            for secret in (marker, "Bí Mật", "0905 777 311", "bimat.", "device-"):
                if secret == marker:  # the marker is in the media URL, which is public by design
                    text = text.replace(f"https://photos.example.vn/{marker}.jpg", "")
                assert secret not in text, (path, fmt, secret)


def test_media_url_is_our_photo_when_the_report_has_one(client: httpx.Client, create: Callable[..., str]) -> None:
    """Without photo or media_url there is none; a report filed with a photo links that photo."""
    code = create(service_code="noise", description="Karaoke ồn ào quá 23 giờ đêm mỗi ngày")
    (request,) = client.get(f"{BASE}/requests/{code}.json").json()
    assert request["media_url"] is None and request["service_name"] == "Tiếng ồn"

    image = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(image, format="JPEG")
    fields = {"category": "fallen_tree", "description": "Cây đổ chắn ngang đường sau mưa lớn",
              "lon": str(CITADEL[0]), "lat": str(CITADEL[1])}  # fmt: skip
    filed = client.post("/api/reports", data=fields, files={"photos": ("tree.jpg", image.getvalue(), "image/jpeg")})
    assert filed.status_code == 201, filed.text
    photo_code = filed.json()["code"]
    (request,) = client.get(f"{BASE}/requests/{photo_code}.json").json()
    assert request["media_url"] == f"{client.base_url}/api/reports/{photo_code}/photos/1"
    photo = client.get(request["media_url"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"


# --- bad input ----------------------------------------------------------------------------------


def test_post_rejects_bad_input_and_writes_nothing(client: httpx.Client, db: psycopg.Connection,
                                                   api_key: str) -> None:  # fmt: skip
    marker = uuid.uuid4().hex[:10]
    description = f"Ổ gà rất sâu giữa đường Lê Lợi {marker}"
    cases: list[tuple[dict[str, Any], str | None, int, str]] = [
        ({}, None, 403, "api_key is required"),
        ({}, "not-a-key", 403, "invalid api_key"),
        ({"lat": None, "long": None, "address_string": "12 Lê Lợi, Huế"}, api_key, 400, "lat/long required"),
        ({"long": None}, api_key, 400, "lat/long required"),
        ({"lat": "north"}, api_key, 400, "lat must be a number"),
        ({"lat": OUTSIDE[1], "long": OUTSIDE[0]}, api_key, 400, "outside"),
        ({"service_code": "unicorns"}, api_key, 400, "unknown service_code"),
        ({"service_code": None}, api_key, 400, "service_code is required"),
        ({"attribute[volume]": "enormous"}, api_key, 400, "attribute[volume] must be one of small, medium, large"),
        ({"attribute[colour]": "red"}, api_key, 400, "has no attribute colour"),
        ({"description": "short"}, api_key, 400, "description must be"),
        ({"email": "not-an-address"}, api_key, 400, "email"),
        ({"phone": "call me maybe"}, api_key, 400, "phone"),
        ({"phone": "123"}, api_key, 400, "Vietnamese number"),
        ({"email": "ten@huegis"}, api_key, 400, "e-mail address"),
        ({"phone": "0" * 40}, api_key, 400, "phone is longer"),
        ({"media_url": "javascript:alert(1)"}, api_key, 400, "media_url"),
        ({"jurisdiction_id": "sfgov.org"}, api_key, 404, "jurisdiction_id"),
    ]
    for fields, key, status, fragment in cases:
        for fmt in ("json", "xml"):
            fields = {"description": description, **fields}
            expect_error(post_request(client, key, fmt=fmt, **fields), status, fragment)
    as_json = client.post(f"{BASE}/requests.json", json={"api_key": api_key, "service_code": "garbage"})
    expect_error(as_json, 400, "application/x-www-form-urlencoded")
    upload = client.post(f"{BASE}/requests.json", data={"api_key": api_key}, files={"media": ("a.jpg", b"xx")})
    expect_error(upload, 400, "file uploads")
    assert reports_with(db, marker) == 0


def test_queries_reject_bad_parameters_in_the_spec_shape(client: httpx.Client) -> None:
    for params, fragment in [
        ({"page_size": "0"}, "page_size must be 1-1000"),
        ({"page_size": "lots"}, "page_size must be a whole number"),
        ({"page": "-1"}, "page must be"),
        ({"status": "pending"}, "status must be open or closed"),
        ({"start_date": "yesterday"}, "start_date must be a date-time"),
        ({"start_date": "2026-01-01T00:00:00+07:00", "end_date": "2026-06-01T00:00:00+07:00"}, "90 days"),
        ({"start_date": "2026-02-01T00:00:00+07:00", "end_date": "2026-01-01T00:00:00+07:00"}, "before start_date"),
        ({"lang": "fr"}, "lang must be"),
    ]:
        for fmt in ("json", "xml"):
            expect_error(client.get(f"{BASE}/requests.{fmt}", params=params), 400, fragment)
    expect_error(client.get(f"{BASE}/services.csv"), 400, "unknown format")
    expect_error(client.get(f"{BASE}/services.json", params={"jurisdiction_id": "sfgov.org"}), 404, "not found")
    expect_error(client.get(f"{BASE}/nothing-here.json"), 404, "not an Open311 endpoint")
    expect_error(client.get(f"{BASE}/"), 404, "discovery.xml")
    expect_error(client.delete(f"{BASE}/services.json"), 404, "not an Open311 endpoint")
    assert client.get(f"{BASE}/services.json", params={"jurisdiction_id": open311.JURISDICTION}).status_code == 200


# --- listing and filters ------------------------------------------------------------------------


@pytest.fixture
def three_requests(client: httpx.Client, create: Callable[..., str],
                   staff_headers: Callable[..., dict[str, str]]) -> Iterator[tuple[datetime, list[str]]]:  # fmt: skip
    """Two garbage requests (one then resolved and closed) and a street-lighting one, newest last."""
    since = datetime.now(TZ) - timedelta(seconds=2)
    codes = [
        create(description="Rác chất đống cạnh trường học đã ba ngày"),
        create(description="Rác tràn ra lòng đường gần chợ Đông Ba"),
        create(service_code="street_lighting", description="Đèn đường tắt cả dãy phố từ tối qua",
               **{"attribute[pole_number]": "CS-118"}),
    ]  # fmt: skip
    closed = codes[0]
    officer = staff_headers("ward_officer", unit=PHU_XUAN)
    for action, extra in [("assign", {}), ("start", {}), ("resolve", {"note": "Đã thu gom rác sạch sẽ"})]:
        response = client.post(f"/api/reports/{closed}/actions", json={"action": action, **extra}, headers=officer)
        assert response.status_code == 200, response.text
    yield since, codes


def test_requests_filter_by_id_code_date_and_status(client: httpx.Client, schemas: Callable,
                                                    three_requests: tuple[datetime, list[str]]) -> None:  # fmt: skip
    since, codes = three_requests
    ids = ",".join(codes)
    listed, _ = get_both(client, "requests", {"service_request_id": ids})
    assert_valid(schemas, "requests.json", listed)
    assert [r["service_request_id"] for r in listed] == codes[::-1]  # newest first
    by_id = {r["service_request_id"]: r for r in listed}
    resolved = by_id[codes[0]]
    assert resolved["status"] == "closed" and resolved["status_notes"] == "Đã thu gom rác sạch sẽ"
    assert by_id[codes[1]]["status"] == "open" and by_id[codes[1]]["status_notes"] is None
    assert by_id[codes[2]]["agency_responsible"] == "Công ty CP Môi trường và Công trình đô thị Huế"
    english, _ = get_both(client, "requests", {"service_request_id": codes[2], "lang": "en"})
    assert english[0]["agency_responsible"].startswith("Huế Urban Environment and Public Works Company")

    # ids override every other filter, as the spec says
    assert len(client.get(f"{BASE}/requests.json", params={"service_request_id": ids, "status": "closed"}).json()) == 3

    window = {"start_date": since.isoformat(), "end_date": (datetime.now(TZ) + timedelta(minutes=1)).isoformat()}
    found = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json", params=window).json()}
    assert set(codes) <= found
    garbage = client.get(f"{BASE}/requests.json", params={**window, "service_code": "garbage"}).json()
    assert {codes[0], codes[1]} <= {r["service_request_id"] for r in garbage}
    assert codes[2] not in {r["service_request_id"] for r in garbage}
    assert {r["service_code"] for r in garbage} == {"garbage"}
    both = client.get(f"{BASE}/requests.json", params={**window, "service_code": "garbage,street_lighting"}).json()
    assert set(codes) <= {r["service_request_id"] for r in both}
    for status, mine in [("open", {codes[1], codes[2]}), ("closed", {codes[0]})]:
        answer = client.get(f"{BASE}/requests.json", params={**window, "status": status}).json()
        assert {r["status"] for r in answer} == {status}
        assert mine <= {r["service_request_id"] for r in answer}
        assert not (set(codes) - mine) & {r["service_request_id"] for r in answer}
    either = client.get(f"{BASE}/requests.json", params={**window, "status": "open,closed"}).json()
    assert set(codes) <= {r["service_request_id"] for r in either}
    before = client.get(f"{BASE}/requests.json", params={"end_date": (since - timedelta(days=1)).isoformat()})
    assert not set(codes) & {r["service_request_id"] for r in before.json()}


def test_requests_are_paged(client: httpx.Client, three_requests: tuple[datetime, list[str]]) -> None:
    _, codes = three_requests
    params = {"service_request_id": ",".join(codes), "page_size": "2"}
    first = client.get(f"{BASE}/requests.json", params={**params, "page": "1"}).json()
    second = client.get(f"{BASE}/requests.xml", params={**params, "page": "2"})
    third = client.get(f"{BASE}/requests.json", params={**params, "page": "3"}).json()
    assert [r["service_request_id"] for r in first] == codes[:0:-1]
    assert [e.text for e in ET.fromstring(second.content).iter("service_request_id")] == [codes[0]]
    assert third == []
    assert ET.fromstring(client.get(f"{BASE}/requests.xml", params={**params, "page": "3"}).content).tag == (
        "service_requests"
    )


# --- a real Open311 client ----------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_client_reads_everything(server: str, create: Callable[..., str], output_format: str) -> None:
    """The PyPI ``georeport`` client (it cannot POST: requests are created over plain HTTP above)."""
    code = create(description="Rác thải bốc mùi hôi thối cạnh cầu Trường Tiền", **{"attribute[volume]": "small"})
    client = GeoReport(f"{server}{BASE}", jurisdiction=open311.JURISDICTION, output_format=output_format)

    services = client.get_service_list()
    assert "garbage" in {s["service_code"] for s in services}

    definition = client.get_service_definition("garbage")
    assert definition["service_code"] == "garbage"
    attribute = definition["attributes"]["attribute"] if output_format == "xml" else definition["attributes"][0]
    assert attribute["code"] == "volume"

    listed = client.get_service_requests(service_request_id=code)
    listed = [listed] if isinstance(listed, dict) else listed  # xmltodict: one element is not a list
    assert [r["service_request_id"] for r in listed] == [code]
    recent = client.get_service_requests(service_code="garbage", status="open")
    recent = [recent] if isinstance(recent, dict) else recent
    assert code in {r["service_request_id"] for r in recent}

    request = client.get_service_request(code)
    assert request["service_request_id"] == code and request["status"] == "open"
    assert request["service_code"] == "garbage"


# --- language: lang=, else Accept-Language (the spec has no language parameter) -------------------


def test_service_notice_in_the_clients_language(client: httpx.Client, api_key: str, create: Callable[..., str]) -> None:
    english = {"Accept-Language": "en-GB,en;q=0.9,vi;q=0.5"}
    created = client.post(f"{BASE}/requests.json", headers=english, data={
        "api_key": api_key, "service_code": "garbage", "lat": CITADEL[1], "long": CITADEL[0],
        "description": "Rubbish piling up at the corner of Đinh Tiên Hoàng"})  # fmt: skip
    assert created.status_code == 200, created.text
    assert created.json()[0]["service_notice"] == "To be handled within 16 working hours"
    assert created.headers["content-language"] == "en" and "Accept-Language" in created.headers["vary"]
    code = created.json()[0]["service_request_id"]
    assert client.get(f"{BASE}/requests/{code}.json").json()[0]["service_notice"] == "Xử lý trong 16 giờ làm việc"
    read = client.get(f"{BASE}/requests/{code}.json", headers=english)
    assert read.json()[0]["service_notice"] == "To be handled within 16 working hours"
    assert read.json()[0]["service_name"] != client.get(f"{BASE}/requests/{code}.json").json()[0]["service_name"]
    overridden = client.get(f"{BASE}/requests/{code}.json", params={"lang": "vi"}, headers=english)
    assert overridden.json()[0]["service_notice"] == "Xử lý trong 16 giờ làm việc"
    unknown = client.get(f"{BASE}/requests/{code}.json", headers={"Accept-Language": "fr, de;q=0.5"})
    assert unknown.headers["content-language"] == "vi"


def test_refusals_are_coded_in_the_clients_language(client: httpx.Client, api_key: str) -> None:
    place = {"api_key": api_key, "service_code": "garbage", "lat": CITADEL[1], "long": CITADEL[0]}
    cases = [({"description": "short"}, "The description needs 10 to 4,000 characters. (description_length: "),
             ({"description": "Rác ngoài biển", "lat": 17.0, "long": 108.6}, "This place is outside Thành phố Huế"),
             ({"phone": "0" * 40}, "The contact details are too long. (contact_length: phone is longer than 32"),
             ({"phone": "123"}, "The phone number is not valid: start with 0 or +84, then 9–10 digits. "
                                "(phone_invalid: "),
             ({"email": "ten@huegis"}, "The e-mail address is not valid (for example: name@example.vn). "
                                       "(email_invalid: "),
             ({"lat": None}, "Drop a pin on the map or use your location. (location: lat/long required")]  # fmt: skip
    for fields, start in cases:
        data = {k: v for k, v in {**place, **fields}.items() if v is not None}
        response = client.post(f"{BASE}/requests.json", headers={"Accept-Language": "en"}, data=data)
        assert response.status_code == 400 and response.json()[0]["code"] == 400, response.text
        assert response.json()[0]["description"].startswith(start), response.text
    vi = client.post(f"{BASE}/requests.json", data={**place, "description": "short"})
    assert vi.json()[0]["description"].startswith("Mô tả cần từ 10 đến 4.000 ký tự. (description_length: ")


def test_georeport_client_reads_english(server: str, create: Callable[..., str], monkeypatch) -> None:
    """The PyPI client sends no language of its own: a client set up for English (Accept-Language) gets it."""
    import requests
    from requests.structures import CaseInsensitiveDict

    code = create(description="Rác thải ven sông Hương cần thu gom")
    vi = GeoReport(f"{server}{BASE}", jurisdiction=open311.JURISDICTION).get_service_request(code)
    assert vi["service_notice"] == "Xử lý trong 16 giờ làm việc"
    defaults = requests.sessions.default_headers
    monkeypatch.setattr(requests.sessions, "default_headers",
                        lambda: CaseInsensitiveDict({**defaults(), "Accept-Language": "en-US,en;q=0.8"}))  # fmt: skip
    en = GeoReport(f"{server}{BASE}", jurisdiction=open311.JURISDICTION).get_service_request(code)
    assert en["service_notice"] == "To be handled within 16 working hours" and en["service_name"] != vi["service_name"]
