"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): categories as services, reports as requests.

A category is a service (``service_code`` = category code); a report is a service request
(``service_request_id`` = its public code). Requests are created synchronously, so the ``token``
a POST returns is the code itself and ``tokens/{token}`` answers at once. Every response exists
in JSON and XML with the same content; errors are the spec's list of ``{code, description}``.

GET responses carry no personal data: no reporter, and no free-text description (it may name
people), as in the public report view. The top half of this module is pure (mapping, parsing,
rendering); the service functions at the bottom read and write the database.
"""

from __future__ import annotations

import hmac
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from geo.auth import Unauthenticated, accounts
from geo.auth.policy import require
from geo.auth.roles import OPEN311
from geo.db import fetch_all, fetch_one, load_sql
from geo.errors import Forbidden, InvalidInput, NotFound
from geo.reports.intake import ReporterIn, ReportIn, contact_problems, create_report
from geo.settings import Settings
from geo.times import parse_instant

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
JURISDICTION = "hue.gov.vn"
# When this API last changed (discovery's changeset); bump it with any change clients would notice.
CHANGESET = "2026-11-28T00:00:00+07:00"
FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
LANGS = ("vi", "en")

# Our workflow statuses seen through Open311's two.
STATUS = {
    "received": "open",
    "assigned": "open",
    "in_progress": "open",
    "reopened": "open",
    "resolved": "closed",
    "closed": "closed",
    "rejected": "closed",
    "duplicate": "closed",
}
# Statuses whose result_note is the public answer (set when resolving or rejecting).
ANSWERED = ("resolved", "closed", "rejected")

MAX_RANGE = timedelta(days=90)  # the spec's longest start_date..end_date span
MAX_PAGE_SIZE = 1000  # the spec's "first 1000 requests"
MAX_IDS = 1000
CODE_PATTERN = re.compile(r"^[A-Z0-9-]{4,16}$")
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# XML 1.0 forbids most control characters; staff notes pasted from elsewhere can carry them.
XML_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Element name of the items of each list, as the spec's XML examples name them.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
# The problem code of a field too long (texts in api/errors.py).
LIMIT_CODES = {"description": "description_length", **dict.fromkeys(("first_name", "last_name", "email", "phone",
                                                                    "device_id"), "contact_length")}  # fmt: skip
FIELD_LIMITS = {"first_name": 100, "last_name": 100, "email": 320, "phone": 32, "device_id": 200,
                "address_string": 500, "media_url": 2000, "description": 4000}  # fmt: skip


# --- parsing --------------------------------------------------------------------------------


def parse_format(fmt: str) -> str:
    """'json' or 'xml' from the path suffix; InvalidInput for anything else."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: end the path with .xml or .json")
    return fmt


def preferred_lang(accept_language: str | None) -> str | None:
    """The language of ours an ``Accept-Language`` header ranks first (q-values; ``en-GB`` is ``en``)."""
    ranked = []
    for order, item in enumerate((accept_language or "").split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        weights = [p.partition("=")[2] for p in params if p.partition("=")[0].strip().lower() == "q"]
        try:
            weight = float(weights[0]) if weights else 1.0
        except ValueError:
            continue  # a malformed range is ignored, as RFC 9110 lets a server do
        primary = tag.lower().split("-")[0]
        if primary in LANGS and weight > 0:
            ranked.append((-weight, order, primary))
    return min(ranked)[2] if ranked else None


def parse_lang(lang: str | None) -> str:
    """'vi' (the default) or 'en'; InvalidInput for anything else."""
    if lang is None or lang == "":
        return "vi"
    if lang not in LANGS:
        raise InvalidInput(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    """This server has one jurisdiction; naming another is the spec's 404."""
    if jurisdiction_id not in (None, "", JURISDICTION):
        raise NotFound(f"jurisdiction_id {jurisdiction_id!r} not found; this server serves {JURISDICTION!r}")


async def check_api_key(conn: AsyncConnection, api_key: str | None, static_keys: Sequence[str]) -> str:
    """The client an ``api_key`` belongs to: a configured static key ('static key') or a live
    ``open311_client`` key made with ``huegis keys add``; Forbidden otherwise (the spec's 403)."""
    if not api_key:
        raise Forbidden("api_key is required to create a service request")
    if any(hmac.compare_digest(api_key.encode(), key.encode()) for key in static_keys if key):
        return "static key"
    try:
        principal = await accounts.principal_for_key(conn, api_key)
    except Unauthenticated:
        raise Forbidden("invalid api_key") from None
    require(principal, OPEN311)
    return principal.username


def parse_time(name: str, text: str) -> datetime:
    """A W3C/ISO 8601 date or date-time (naive values are Huế time), as every query parses it."""
    return parse_instant(name, text)


def _split(text: str | None) -> tuple[str, ...] | None:
    """Comma-delimited values, blanks dropped; None when nothing is given."""
    if text is None:
        return None
    values = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    return values or None


def _positive_int(name: str, text: str | None, default: int, maximum: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, got {text!r}") from None
    if not 1 <= value <= maximum:
        raise InvalidInput(f"{name} must be 1-{maximum}, got {value}")
    return value


@dataclass(frozen=True)
class RequestQuery:
    """What GET requests asks for, checked; statuses are ours (not Open311's)."""

    ids: tuple[str, ...] | None = None
    service_codes: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] | None = None
    limit: int = MAX_PAGE_SIZE
    offset: int = 0


def parse_request_query(
    *,
    now: datetime,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> RequestQuery:
    """The spec's filters: ids override everything else; the date range defaults to the last 90 days."""
    limit = _positive_int("page_size", page_size, MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    offset = (_positive_int("page", page, 1, 1_000_000) - 1) * limit
    ids = _split(service_request_id)
    if ids is not None:
        if len(ids) > MAX_IDS:
            raise InvalidInput(f"at most {MAX_IDS} service_request_id values, got {len(ids)}")
        return RequestQuery(ids=tuple(i.upper() for i in ids), limit=limit, offset=offset)
    statuses = None
    wanted = _split(status)
    if wanted is not None:
        unknown = [s for s in wanted if s not in ("open", "closed")]
        if unknown:
            raise InvalidInput(f"status must be open or closed (comma delimited), got {', '.join(unknown)}")
        statuses = tuple(ours for ours, theirs in STATUS.items() if theirs in wanted)
    start = parse_time("start_date", start_date) if start_date else None
    end = parse_time("end_date", end_date) if end_date else None
    if start is not None and end is not None:
        if end < start:
            raise InvalidInput(f"end_date {end_date} is before start_date {start_date}")
        if end - start > MAX_RANGE:
            raise InvalidInput(f"start_date..end_date may span at most {MAX_RANGE.days} days")
    elif start is not None:
        end = start + MAX_RANGE
    elif end is not None:
        start = end - MAX_RANGE
    else:
        start = now - MAX_RANGE  # no upper bound: nothing is filed in the future
    return RequestQuery(None, _split(service_code), start, end, statuses, limit, offset)


@dataclass(frozen=True)
class Submission:
    """A POST requests body, checked for everything that needs no database."""

    service_code: str
    lon: float
    lat: float
    description: str
    reporter: ReporterIn
    attributes: dict[str, list[str]] = field(default_factory=dict)
    media_url: str | None = None
    address: str | None = None


def _first(fields: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = fields.get(name)
    if not values:
        return None
    value = values[0].strip()
    limit = FIELD_LIMITS.get(name)
    if limit is not None and len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters", code=LIMIT_CODES.get(name, "invalid_field"),
                           field=name)  # fmt: skip
    return value or None


def _coordinate(name: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a number (WGS 84 degrees), got {text!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}, got {text!r}")
    return value


def parse_submission(fields: Mapping[str, Sequence[str]]) -> Submission:
    """Open311 POST fields (form or query) into a Submission; InvalidInput naming the first problem."""
    service_code = _first(fields, "service_code")
    if service_code is None:
        raise InvalidInput("service_code is required (GET services.json lists them)", code="unknown_category",
                           field="service_code")  # fmt: skip
    lat, lon = _first(fields, "lat"), _first(fields, "long")
    address = _first(fields, "address_string")
    if lat is None or lon is None:
        if lat is None and lon is None and (address or _first(fields, "address_id")):
            raise InvalidInput("lat/long required: this server has no geocoder to place address_string or address_id",
                               code="location", field="lat")  # fmt: skip
        raise InvalidInput("lat/long required: give both lat and long (WGS 84)", code="location", field="lat")
    email, phone = _first(fields, "email"), _first(fields, "phone")
    if problems := contact_problems(ReporterIn(phone=phone, email=email), phone_field="phone", email_field="email"):
        raise problems[0]
    media_url = _first(fields, "media_url")
    if media_url is not None:
        parts = urlsplit(media_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in media_url:
            raise InvalidInput(f"media_url must be an http(s) URL, got {media_url!r}")
    name = " ".join(n for n in (_first(fields, "first_name"), _first(fields, "last_name")) if n) or None
    attributes: dict[str, list[str]] = {}
    for key, values in fields.items():
        match = ATTRIBUTE_KEY.match(key)
        if match:
            attributes.setdefault(match.group(1), []).extend(values)
        elif key.startswith("attribute"):
            raise InvalidInput(f"{key!r} is not an attribute field; write attribute[code]=value")
    return Submission(
        service_code=service_code,
        lon=_coordinate("long", lon, -180, 180),
        lat=_coordinate("lat", lat, -90, 90),
        description=_first(fields, "description") or "",
        reporter=ReporterIn(full_name=name, phone=phone, email=email, device_id=_first(fields, "device_id")),
        attributes=attributes,
        media_url=media_url,
        address=address,
    )


def check_attributes(service: Mapping[str, Any], given: Mapping[str, list[str]]) -> dict[str, Any]:
    """The answers to a service's attributes, checked against its definition (required, known values)."""
    definition = {a["code"]: a for a in service["attributes"] if a.get("variable", True)}
    unknown = sorted(set(given) - set(definition))
    if unknown:
        known = ", ".join(definition) or "none"
        raise InvalidInput(f"service {service['code']!r} has no attribute {', '.join(unknown)} (known: {known})")
    answers: dict[str, Any] = {}
    for code, attribute in definition.items():
        values = [v.strip() for v in given.get(code, []) if v.strip()]
        if not values:
            if attribute.get("required"):
                raise InvalidInput(f"attribute[{code}] is required for service {service['code']!r}")
            continue
        datatype = attribute["datatype"]
        if datatype != "multivaluelist" and len(values) > 1:
            raise InvalidInput(f"attribute[{code}] takes one value, got {len(values)}")
        if datatype in LIST_DATATYPES:
            keys = [str(v["key"]) for v in attribute.get("values", [])]
            bad = [v for v in values if v not in keys]
            if bad:
                raise InvalidInput(f"attribute[{code}] must be one of {', '.join(keys)}, got {', '.join(bad)}")
            answers[code] = values if datatype == "multivaluelist" else values[0]
        elif datatype == "number":
            try:
                answers[code] = float(values[0])
            except ValueError:
                raise InvalidInput(f"attribute[{code}] must be a number, got {values[0]!r}") from None
        elif datatype == "datetime":
            answers[code] = parse_time(f"attribute[{code}]", values[0]).isoformat()
        else:
            if len(values[0]) > 1000:
                raise InvalidInput(f"attribute[{code}] is longer than 1000 characters")
            answers[code] = values[0]
    return answers


# --- mapping to Open311 ---------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def notice(sla_hours: int, lang: str) -> str:
    """What a citizen may expect, from the category's deadline."""
    if lang == "vi":
        return f"Xử lý trong {sla_hours} giờ làm việc"
    return f"To be handled within {sla_hours} working hours"


def service(row: Mapping[str, Any], *, lang: str) -> dict[str, Any]:
    """A category as an Open311 service."""
    return {
        "service_code": row["code"],
        "service_name": row[f"name_{lang}"],
        "description": row[f"description_{lang}"],
        "metadata": bool(row["attributes"]),
        "type": "realtime",
        "keywords": row["keywords"] or None,
        "group": row["group_name"],
    }


def service_definition(row: Mapping[str, Any]) -> dict[str, Any]:
    """A category's extra questions as an Open311 service definition."""
    attributes = []
    for order, attribute in enumerate(row["attributes"], start=1):
        item: dict[str, Any] = {
            "variable": attribute.get("variable", True),
            "code": attribute["code"],
            "datatype": attribute["datatype"],
            "required": bool(attribute.get("required", False)),
            "datatype_description": attribute.get("datatype_description"),
            "order": order,
            "description": attribute.get("description"),
        }
        if attribute["datatype"] in LIST_DATATYPES:
            item["values"] = [{"key": str(v["key"]), "name": str(v["name"])} for v in attribute.get("values", [])]
        attributes.append(item)
    return {"service_code": row["code"], "attributes": attributes}


def _status_notes(row: Mapping[str, Any], lang: str) -> str | None:
    if row["status"] == "duplicate" and row["duplicate_of"]:
        return f"Trùng với phản ánh {row['duplicate_of']}" if lang == "vi" else f"Duplicate of {row['duplicate_of']}"
    return row["result_note"] if row["status"] in ANSWERED else None


def service_request(row: Mapping[str, Any], *, lang: str, base_url: str) -> dict[str, Any]:
    """A report as an Open311 service request: public fields only."""
    code = row["code"]
    if row["responsible_level"] == "city" and row["department_name_vi"]:
        agency = row[f"department_name_{lang}"]
    else:
        agency = row["unit_name"]
    # Our own photo (metadata stripped) when there is one, else the URL an Open311 client gave.
    photo = f"{base_url.rstrip('/')}/api/reports/{code}/photos/1"
    media_url = photo if row["photo_count"] else row["media_url"]
    return {
        "service_request_id": code,
        "status": STATUS[row["status"]],
        "status_notes": _status_notes(row, lang),
        "service_name": row[f"service_name_{lang}"],
        "service_code": row["category"],
        "description": None,  # free text may name people; see the module docstring
        "agency_responsible": agency,
        "service_notice": notice(row["sla_hours"], lang),
        "requested_datetime": _time(row["received_at"]),
        "updated_datetime": _time(row["updated_at"]),
        "expected_datetime": _time(row["due_at"]),
        "address": f"{row['unit_name']}, Thành phố Huế" if row["unit_name"] else None,
        "address_id": None,
        "zipcode": None,
        "lat": round(row["lat"], 6),
        "long": round(row["lon"], 6),
        "media_url": media_url,
    }


def created(code: str, sla_hours: int, *, lang: str) -> list[dict[str, Any]]:
    """The POST response: the request id, and the token (the same code: we create synchronously)."""
    return [{"service_request_id": code, "token": code, "service_notice": notice(sla_hours, lang)}]


def token(code: str) -> list[dict[str, Any]]:
    """The tokens answer: the request id a token stands for (the same code here)."""
    return [{"service_request_id": code, "token": code}]


def discovery(*, url: str, production: bool) -> dict[str, Any]:
    """Where the endpoint is and what it speaks."""
    return {
        "changeset": CHANGESET,
        "contact": "Trung tâm Giám sát, điều hành đô thị thông minh Huế (HueIOC), đường dây nóng 1900 1075",
        "key_service": "api_key for POST requests: ask HueIOC (Huế Smart City Operations Centre)",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production" if production else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def errors(status: int, description: str) -> list[dict[str, Any]]:
    """The spec's error body."""
    return [{"code": status, "description": description}]


# --- rendering ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return XML_ILLEGAL.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, list):
        item = LIST_ITEMS[element.tag]
        for entry in value:
            _fill(ET.SubElement(element, item), entry)
    elif isinstance(value, dict):
        for key, entry in value.items():
            _fill(ET.SubElement(element, key), entry)
    elif value is not None:  # None stays an empty element, as in the spec's examples
        element.text = _text(value)


def to_xml(payload: Any, *, root: str) -> bytes:
    """The spec's XML: lists become repeated items (services/service, service_requests/request…)."""
    element = ET.Element(root)
    _fill(element, payload)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def render(payload: Any, *, root: str, fmt: str) -> tuple[bytes, str]:
    """Body and media type of a response in ``fmt``; ``root`` names the XML document element."""
    if fmt == "xml":
        return to_xml(payload, root=root), MEDIA_TYPES["xml"]
    return json.dumps(payload, ensure_ascii=False).encode(), MEDIA_TYPES["json"]


# --- service functions (database) -----------------------------------------------------------


async def list_services(conn: AsyncConnection, *, lang: str) -> list[dict[str, Any]]:
    """Every category as a service, in catalogue order."""
    return [service(row, lang=lang) for row in await fetch_all(conn, "open311/services", {"code": None})]


async def _service_row(conn: AsyncConnection, code: str) -> dict[str, Any] | None:
    return await fetch_one(conn, "open311/services", {"code": code})


async def get_service_definition(conn: AsyncConnection, *, service_code: str) -> dict[str, Any]:
    """A service's attributes; NotFound for an unknown service code."""
    row = await _service_row(conn, service_code)
    if row is None:
        raise NotFound(f"no service with service_code {service_code!r}")
    return service_definition(row)


async def find_requests(conn: AsyncConnection, *, query: RequestQuery, lang: str,
                        base_url: str) -> list[dict[str, Any]]:  # fmt: skip
    """Service requests matching the query, newest first."""
    params = {
        "ids": list(query.ids) if query.ids else None,
        "services": list(query.service_codes) if query.service_codes else None,
        "start": query.start,
        "end": query.end,
        "statuses": list(query.statuses) if query.statuses else None,
        "limit": query.limit,
        "offset": query.offset,
    }
    return [
        service_request(row, lang=lang, base_url=base_url) for row in await fetch_all(conn, "open311/requests", params)
    ]


async def get_request(conn: AsyncConnection, *, service_request_id: str, lang: str,
                      base_url: str) -> list[dict[str, Any]]:  # fmt: skip
    """One service request (a list of one, as the spec answers); NotFound if there is none."""
    code = service_request_id.strip().upper()
    found = await find_requests(conn, query=RequestQuery(ids=(code,), limit=1), lang=lang, base_url=base_url)
    if not found:
        raise NotFound(f"no service request {service_request_id!r}")
    return found


async def resolve_token(conn: AsyncConnection, *, token_id: str) -> list[dict[str, Any]]:
    """The request a token stands for: tokens are request ids here, so it is the same code."""
    code = token_id.strip().upper()
    if CODE_PATTERN.match(code):
        async with conn.cursor() as cur:
            await cur.execute("SELECT 1 FROM citizen_reports WHERE code = %(code)s", {"code": code})
            if await cur.fetchone() is not None:
                return token(code)
    raise NotFound(f"no service request for token {token_id!r}")


async def submit_request(
    conn: AsyncConnection,
    *,
    fields: Mapping[str, Sequence[str]],
    settings: Settings,
    lang: str,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Create a report from an Open311 POST (channel ``open311``); one transaction, nothing on error."""
    await check_api_key(conn, _first(fields, "api_key"), settings.open311_api_keys)
    check_jurisdiction(_first(fields, "jurisdiction_id"))
    submission = parse_submission(fields)
    now = now or datetime.now().astimezone()
    async with conn.transaction():
        row = await _service_row(conn, submission.service_code)
        if row is None:
            raise InvalidInput(f"unknown service_code {submission.service_code!r} (GET services.json lists them)",
                               code="unknown_category", field="service_code")  # fmt: skip
        answers = check_attributes(row, submission.attributes)
        report = ReportIn(
            category=submission.service_code,
            description=submission.description,
            lon=submission.lon,
            lat=submission.lat,
            channel="open311",
            reporter=submission.reporter,
        )
        result = await create_report(conn, report=report, settings=settings, now=now)
        details = {"attributes": answers, "media_url": submission.media_url, "address_string": submission.address}
        if any(details.values()):
            async with conn.cursor() as cur:
                await cur.execute(
                    load_sql("open311/add_details"),
                    {"code": result.code, "at": now, "note": submission.media_url,
                     "details": Jsonb({k: v for k, v in details.items() if v})},
                )  # fmt: skip
    return created(result.code, row["sla_hours"], lang=lang)
