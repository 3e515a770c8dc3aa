"""``huegis planning``: the planning-conflict check (the rule table, the conflicts layer, one permit)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import fail, with_connection
from geo import planning
from geo.errors import HueGISError

planning_app = typer.Typer(
    help="The planning-conflict check: construction permits and reports against the planning zones.",
    no_args_is_help=True,
)


@planning_app.command("refresh")
def planning_refresh() -> None:
    """Rewrite the planning_conflicts layer now (triggers keep it current; this is for a changed database)."""
    try:
        counts = with_connection(planning.refresh_conflicts)
    except HueGISError as exc:
        raise fail(exc) from exc
    for row in counts:
        typer.echo(f"{row['subject_type']:8} {row['verdict']:12} {row['features']:>6}")
    typer.echo(f"planning_conflicts: {sum(row['features'] for row in counts)} features")


@planning_app.command("permit")
def planning_permit(
    permit_no: Annotated[str, typer.Argument(help="The permit number, e.g. GPXD-2024-000123.")],
) -> None:
    """One permit's zone, parcel and verdicts, with the reason."""
    try:
        check = with_connection(lambda conn: planning.permit_planning(conn, permit_no=permit_no))
    except HueGISError as exc:
        raise fail(exc) from exc
    for name in ("permit_no", "building_use", "status", "plan_code", "zone_name", "zone_type", "parcel_no", "land_use",
                 "use_verdict", "land_verdict", "verdict", "reason"):  # fmt: skip
        typer.echo(f"{name:14} {check[name] if check[name] is not None else '-'}")
