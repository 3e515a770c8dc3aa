"""Citizen reports: intake, public follow-up, rating, photos, staff workflow and queues."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from starlette.datastructures import UploadFile

from api.consistency import read_after
from api.deps import ConnDep, PoolsDep, PrincipalDep, ReadConnDep, SettingsDep, requires
from api.errors import UnsupportedMediaType, invalid_fields, together
from api.limits import limit_intake, read_json
from geo.auth import Principal
from geo.auth.roles import READ_REPORTS, RUN_ESCALATIONS
from geo.db import Pools
from geo.errors import Forbidden, InvalidInput, NotFound
from geo.reports import queries, workflow
from geo.reports.intake import (
    IntakeResult,
    ReporterIn,
    ReportIn,
    check_follow_token,
    clean_photos,
    create_report,
    description_problem,
    email_problem,
    follow_token,
    phone_problem,
)
from geo.reports.intake import photo_path as resolve_photo
from geo.settings import Settings

router = APIRouter(prefix="/api", tags=["reports"])
staff = APIRouter(prefix="/api/staff", tags=["staff"])

CODE = Path(description="Public tracking code, e.g. HUE-7K3QX9PA", pattern=r"^[A-Z0-9-]{4,16}$")
# HttpOnly cookie holding a report's follow token for the browser that filed it (no localStorage needed).
FOLLOW_COOKIE = "huegis_follow_{code}"
FOLLOW_COOKIE_S = 180 * 24 * 3600


# Each contact field's check and the problem code it raises.
CONTACT_CHECKS = {
    "reporter_phone": (phone_problem, "phone_invalid"),
    "reporter_email": (email_problem, "email_invalid"),
}


class ReportSubmission(BaseModel):
    """A report as a citizen's app or web form sends it."""

    category: str = Field(description="Category code from /api/report-categories")
    description: str = Field(description="What is wrong, 10-4000 characters")
    lon: float = Field(ge=-180, le=180, description="Longitude, EPSG:4326")
    lat: float = Field(ge=-90, le=90, description="Latitude, EPSG:4326")
    channel: Literal["app", "web"] = "web"
    reporter_name: str | None = Field(default=None, max_length=200)
    reporter_phone: str | None = Field(
        default=None, max_length=32, description="Vietnamese number: +84 or 0, then 9-10 digits; spaces allowed"
    )
    reporter_email: str | None = Field(default=None, max_length=320, description="E-mail address")
    device_id: str | None = Field(default=None, max_length=200)

    @field_validator("description")
    @classmethod
    def _description_length(cls, text: str) -> str:
        """Checked with the other fields, so every problem is reported at once."""
        if problem := description_problem(text):
            raise ValueError(problem)
        return text

    @field_validator("reporter_phone", "reporter_email")
    @classmethod
    def _contact(cls, text: str | None, info: ValidationInfo) -> str | None:
        """The error's type is the problem code (``phone_invalid``), as ``api.errors.invalid_fields`` reads it."""
        check, code = CONTACT_CHECKS[info.field_name or ""]
        if text is not None and (problem := check(text)):
            raise PydanticCustomError(code, problem)
        return text

    def to_report(self, photos: tuple[tuple[str, bytes], ...] = ()) -> ReportIn:
        reporter = ReporterIn(self.reporter_name, self.reporter_phone, self.reporter_email, self.device_id)
        return ReportIn(self.category, self.description, self.lon, self.lat, self.channel, reporter, photos)


MULTIPART_SCHEMA = {
    "requestBody": {
        "content": {
            "application/json": {"schema": ReportSubmission.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        **ReportSubmission.model_json_schema()["properties"],
                        "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                    "required": ["category", "description", "lon", "lat"],
                }
            },
        },
        "required": True,
    }
}


async def _parse_submission(request: Request, settings: Settings) -> ReportIn:
    """JSON or multipart (with photos) into one ReportIn; 400/413/415 naming every problem."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    photos: tuple[tuple[str, bytes], ...] = ()
    if content_type == "application/json":
        fields = read_json(await request.body())  # bounded in depth, no lone surrogates
        if not isinstance(fields, dict):
            raise InvalidInput("body must be a JSON object")
    elif content_type == "multipart/form-data":
        form = await request.form(max_files=settings.photo_max_count + 1, max_fields=20)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        uploads = [v for k, v in form.multi_items() if isinstance(v, UploadFile)]
        if any(upload for upload in uploads if upload.filename is None):
            raise InvalidInput("form files must have a file name")
        photos = tuple([(u.filename or "photo", await u.read(settings.photo_max_bytes + 1)) for u in uploads])
    else:
        raise UnsupportedMediaType(content_type, "application/json or multipart/form-data")
    try:
        return ReportSubmission.model_validate(fields).to_report(photos)
    except ValidationError as exc:  # with the photos' problems too, so the citizen sees all at once
        found = invalid_fields(exc.errors())
        raise together([*getattr(found, "problems", [found]), *clean_photos(photos, settings=settings)[1]]) from exc


async def _intake_response(conn: Any, result: IntakeResult, settings: Settings, replay: bool) -> JSONResponse:
    report = result.report or await queries.public_report(conn, code=result.code)
    body = {
        "code": report["code"],
        "follow_token": follow_token(report["code"], settings.secret_key),
        "status": report["status"],
        "category": report["category"],
        "priority": report["priority"],
        "admin_unit": report["admin_unit"],
        "responsible_level": report["responsible_level"],
        "department": report["department"],
        "received_at": report["received_at"].isoformat(),
        "due_at": report["due_at"].isoformat() if report["due_at"] else None,
        "duplicates": [{**d, "received_at": d["received_at"].isoformat()} for d in result.duplicates],
        "links": {"self": f"/api/reports/{report['code']}"},
    }
    headers = {"Location": f"/api/reports/{report['code']}"}
    if replay:
        headers["Idempotent-Replayed"] = "true"
    response = JSONResponse(body, status_code=200 if replay else 201, headers=headers)
    # The follow token for browsers, out of reach of scripts: sent back only with this report's rating.
    response.set_cookie(FOLLOW_COOKIE.format(code=report["code"]), body["follow_token"], max_age=FOLLOW_COOKIE_S,
                        path=f"/api/reports/{report['code']}", httponly=True, samesite="strict",
                        secure=settings.public_url.startswith("https://"))  # fmt: skip
    return response


@router.post(
    "/reports",
    status_code=201,
    summary="File a report (JSON, or multipart with photos)",
    openapi_extra=MULTIPART_SCHEMA,
    dependencies=[Depends(limit_intake)],
    responses={
        200: {"description": "A retry with the same Idempotency-Key: the first report"},
        400: {"description": "Invalid report"},
        409: {"description": "Idempotency-Key reused"},
        413: {"description": "Photo or request body too large"},
        429: {"description": "Too many submissions from this address or device (Retry-After)"},
    },
)
async def submit_report(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(description="Retry-safe submission key")] = None,
) -> JSONResponse:
    """Validate, route to the responsible ward/commune or department, and return the tracking code.

    The response carries ``follow_token``: the citizen's secret for rating the result.
    """
    report = await _parse_submission(request, settings)
    result = await create_report(conn, report=report, settings=settings, idempotency_key=idempotency_key)
    return await _intake_response(conn, result, settings, replay=not result.created)


@router.get("/report-categories", summary="The report category catalogue")
async def report_categories(conn: ConnDep) -> list[dict]:
    """Categories with Vietnamese and English names, responsible level, department and SLA."""
    return await queries.list_categories(conn)


async def read_public_report(request: Request, pools: Pools, code: str) -> dict:
    """The public view of a report from a replica, or from the primary when the replica has not
    replayed it yet (just filed) or the client's last write (``api.consistency``)."""
    return await pools.run_read(lambda conn: queries.public_report(conn, code=code), after=read_after(request),
                                missing=NotFound)  # fmt: skip


@router.get("/reports/{code}", summary="Follow a report by its code")
async def get_report(request: Request, pools: PoolsDep, code: Annotated[str, CODE]) -> dict:
    """Status, routing, deadline, result and timeline; no personal data."""
    report = await read_public_report(request, pools, code)
    report["photos"] = [f"/api/reports/{code}/photos/{n}" for n in range(1, len(report["photos"]) + 1)]
    return report


@router.get("/reports", summary="Public reports as GeoJSON", response_class=Response)
async def list_reports(
    conn: ReadConnDep,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (EPSG:4326)")] = None,
    status: Annotated[str | None, Query()] = None,
    category: Annotated[str | None, Query()] = None,
    unit: Annotated[str | None, Query(description="Ward/commune code")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Newest first, paged; the FeatureCollection is built by PostGIS."""
    box = parse_bbox(bbox) if bbox else None
    body = await queries.public_reports_geojson(conn, bbox=box, status=status, category=category, unit=unit,
                                                limit=limit, offset=offset)  # fmt: skip
    return Response(body, media_type="application/geo+json")


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """'minLon,minLat,maxLon,maxLat' → floats; InvalidInput naming what is wrong."""
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"bbox must be four numbers minLon,minLat,maxLon,maxLat, got {text!r}") from None
    if len(values) != 4:
        raise InvalidInput(f"bbox must be four numbers minLon,minLat,maxLon,maxLat, got {len(values)}")
    west, south, east, north = values
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InvalidInput(f"bbox {text!r} is not a WGS 84 box with min < max")
    return west, south, east, north


@router.get("/reports/{code}/photos/{n}", summary="A report photo (metadata stripped)", response_class=FileResponse)
async def report_photo(request: Request, pools: PoolsDep, settings: SettingsDep, code: Annotated[str, CODE],
                       n: Annotated[int, Path(ge=1, le=10)]) -> FileResponse:  # fmt: skip
    report = await read_public_report(request, pools, code)
    if n > len(report["photos"]):
        raise NotFound(f"report {code} has {len(report['photos'])} photo(s)")
    return FileResponse(resolve_photo(settings, report["photos"][n - 1]), media_type="image/jpeg")


class Rating(BaseModel):
    token: str | None = Field(
        default=None, min_length=8, max_length=64, description="follow_token of the report (browsers: its cookie)"
    )
    rating: int = Field(ge=1, le=5, description="1 (very unhappy) to 5 (very happy)")
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/reports/{code}/rating", summary="Rate the result (the citizen who filed it)")
async def rate(request: Request, conn: ConnDep, settings: SettingsDep, code: Annotated[str, CODE],
               body: Rating) -> dict:  # fmt: skip
    """3-5 closes the report; 1-2 reopens it once. The token comes in the body or, from the browser that
    filed the report, in its HttpOnly cookie."""
    token = body.token or request.cookies.get(FOLLOW_COOKIE.format(code=code))
    if not token:
        raise Forbidden(f"send the follow_token of report {code} (returned when it was filed)", code="follow_token")
    if not check_follow_token(code, token, settings.secret_key):
        raise Forbidden(f"the token does not belong to report {code}", code="follow_token")
    status = await workflow.rate_report(conn, code=code, rating=body.rating, comment=body.comment)
    return {"code": code, "status": status}


# --- staff ------------------------------------------------------------------------------

Action = Literal[
    "assign", "start", "resolve", "reject", "mark_duplicate", "close", "reroute", "escalate",
    "request_extension", "approve_extension", "reject_extension",
]  # fmt: skip


class ActionIn(BaseModel):
    """One staff action on a report. Unknown fields are refused (422 naming them), never dropped."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    note: str | None = Field(
        default=None, max_length=4000,
        description="Why; required for resolve, reject, reroute, escalate, request_extension and reject_extension. "
        "PUBLIC for resolve and reject: that note is published to the citizen as the report's result "
        "(result_note and the timeline of GET /api/reports/{code}, status_notes in Open311). Other actions' "
        "notes stay with staff.",
    )  # fmt: skip
    department: str | None = Field(default=None, description="reroute/escalate: city department code")
    unit_code: str | None = Field(default=None, description="reroute: ward/commune code")
    duplicate_of: str | None = Field(default=None, description="mark_duplicate: code of the report to keep")
    hours: int | None = Field(default=None, description="request_extension: working hours to add")


Readers = Annotated[Principal, Depends(requires(READ_REPORTS))]


@router.post("/reports/{code}/actions", summary="Apply a workflow action (staff)", tags=["staff"])
async def act(conn: ConnDep, principal: PrincipalDep, code: Annotated[str, CODE], body: ActionIn) -> dict:
    """403 when the role or the report's unit/department forbids; invalid transitions are 409 with the allowed
    starting statuses. The note of ``resolve`` or ``reject`` is shown to the citizen as the result; unknown
    fields are a 422 naming them."""
    status = await workflow.apply_action(conn, code=code, principal=principal, **body.model_dump())
    return {"code": code, "status": status}


@staff.get("/queue", summary="Open reports a unit or department must handle")
async def queue(
    conn: ConnDep,
    principal: Readers,
    unit: Annotated[str | None, Query(description="Ward/commune code")] = None,
    department: Annotated[str | None, Query(description="City department code")] = None,
    status: Annotated[str | None, Query()] = None,
    overdue: Annotated[bool, Query(description="Only reports past their deadline")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict]:
    """Evaluates SLA escalation first, so the queue is never stale about breached deadlines.

    Officers and unit heads see their own unit's or department's queue; city-wide roles any.
    """
    now = datetime.now().astimezone()
    await workflow.escalate_overdue(conn, now=now)
    return await queries.staff_queue(conn, principal=principal, now=now, unit=unit, department=department,
                                     status=status, overdue_only=overdue, limit=limit, offset=offset)  # fmt: skip


@staff.get("/reports/{code}", summary="A report with its audit trail (and its reporter, for its handlers)")
async def staff_report(conn: ConnDep, principal: Readers, code: Annotated[str, CODE]) -> dict:
    """The reporter's name, phone and email only for the unit or department handling the report."""
    return await queries.staff_report(conn, code=code, principal=principal)


@staff.post("/escalations", summary="Escalate every overdue report now")
async def run_escalation(conn: ConnDep, _principal: Annotated[Principal, Depends(requires(RUN_ESCALATIONS))]) -> dict:
    return {"escalated": await workflow.escalate_overdue(conn)}
