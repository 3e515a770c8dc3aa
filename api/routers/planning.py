"""``/api/planning``: the planning-conflict check of a construction permit, and the rule table."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ConnDep
from geo import planning

router = APIRouter(prefix="/api/planning", tags=["planning"])


@router.get("/rules", summary="The rule table: planning zone type × building use or land use → verdict")
async def rules(conn: ConnDep) -> list[dict]:
    """Every rule (allowed, conditional or conflict), with its note where one was written."""
    return await planning.list_rules(conn)


@router.get("/permits/{permit_no}", summary="A construction permit's planning check")
async def permit(conn: ConnDep, permit_no: str) -> dict:
    """The permit, the planning zone and land parcel at its point, and each verdict with the reason."""
    return await planning.permit_planning(conn, permit_no=permit_no)
