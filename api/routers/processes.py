"""OGC API - Processes on the pygeoapi mount: executing and jobs for GIS administrators, descriptions public.

Executing the hot-spot forecast is CPU-heavy, so ``POST /ogc/processes/{id}/execution`` and the job
routes (``/ogc/jobs…``: status, results, deletion) need a staff token whose role may run hot spots
(401 anonymous, 403 other roles; ``api.limits.AuthFirst`` refuses before the body is read). The
request is then handed to pygeoapi unchanged, except that the forecast's inputs are checked first
(pygeoapi's 400 document naming the input) and a synchronous request over a large area is refused
with a 400 saying to execute asynchronously. ``GET /ogc/processes`` and a process's description stay
pygeoapi's public pages.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pygeoapi.util import RequestedProcessExecutionMode
from starlette.types import Message

from api.deps import requires
from api.routers.ogc import ToPygeoapi, wants_html
from geo.auth import Principal
from geo.auth.roles import HOTSPOTS
from geo.errors import InvalidInput
from geo.ogc.processes import PROCESS_ID, parse_inputs

router = APIRouter(prefix="/ogc", tags=["ogc processes"])
GisAdmin = Annotated[Principal, Depends(requires(HOTSPOTS))]


def _error(description: str) -> JSONResponse:
    """pygeoapi's exception document for a bad input."""
    code = "InvalidParameterValue"
    return JSONResponse({"code": code, "type": code, "description": description}, status_code=400,
                        headers={"Content-Language": "en-US"})  # fmt: skip


def _is_async(request: Request) -> bool:
    """True when pygeoapi will run the request as a job (it reads ``Prefer`` exactly so)."""
    try:
        mode = RequestedProcessExecutionMode(request.headers.get("prefer"))
    except ValueError:
        return False
    return mode is RequestedProcessExecutionMode.respond_async


class Replayed(ToPygeoapi):
    """Hand the request to pygeoapi with a body already read here."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body_bytes = body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": self.body_bytes, "more_body": False}

        await super().__call__(scope, replay, send)


@router.post(
    "/processes/{process_id}/execution",
    summary="GIS administrators: execute a process (synchronously, or as a job with 'Prefer: respond-async')",
    response_class=Response,
)
async def execute(process_id: str, request: Request, _admin: GisAdmin) -> Response:
    """Run the process (OGC API - Processes); a job answers 201 with ``Location`` of ``/ogc/jobs/{id}``.

    Body: ``{"inputs": {...}}`` as the process description says (``GET /ogc/processes/{id}``).
    """
    body = await request.body()
    if process_id == PROCESS_ID and body:
        try:
            document = json.loads(body)
            inputs = parse_inputs(document.get("inputs") if isinstance(document, dict) else document)
            if not _is_async(request):
                inputs.check_sync()
        except json.JSONDecodeError:
            pass  # pygeoapi names it ("invalid request data")
        except InvalidInput as exc:
            return _error(str(exc))
    return Replayed(body)


@router.get("/jobs", summary="GIS administrators: the jobs of OGC API - Processes", response_class=Response)
async def jobs(_admin: GisAdmin) -> Response:
    """pygeoapi's job list (JSON or HTML)."""
    return ToPygeoapi()


@router.get("/jobs/{job_id}", summary="GIS administrators: a job's status", response_class=Response)
async def job(job_id: str, _admin: GisAdmin) -> Response:
    """Status of the job: accepted, running, successful or failed, with its progress and message."""
    return ToPygeoapi()


@router.delete("/jobs/{job_id}", summary="GIS administrators: cancel or delete a job", response_class=Response)
async def delete_job(job_id: str, request: Request, _admin: GisAdmin) -> Response:
    """Delete the job and its results."""
    # pygeoapi 0.21's Starlette view answers every successful deletion with a 500 (its handler returns no
    # Content-Type header): its API function is called here and the answer given with the media type.
    from pygeoapi.api import APIRequest
    from pygeoapi.api import processes as processes_api
    from pygeoapi.starlette_app import api_

    api_request = await APIRequest.from_starlette(request, api_.locales)
    headers, status, content = await asyncio.to_thread(processes_api.delete_job, api_, api_request, job_id)
    return Response(content, status_code=status, headers={**headers, "Content-Type": "application/json"})


@router.get("/jobs/{job_id}/results", summary="GIS administrators: a finished job's results", response_class=Response)
async def results(job_id: str, request: Request, _admin: GisAdmin) -> Response:
    """The job's outputs (the forecast's FeatureCollection): JSON unless HTML is asked for."""
    if "f" in request.query_params or wants_html(request):
        return ToPygeoapi()
    # pygeoapi answers a client that accepts anything (*/*, as curl and OWSLib do) with its HTML page.
    return ToPygeoapi(query="&".join(filter(None, (request.url.query, "f=json"))))
