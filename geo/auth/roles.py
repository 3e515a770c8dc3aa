"""Roles and their permissions, as data: who may do what, and over which reports.

A role's ``scope`` says which reports its report permissions reach: ``unit`` (the reports a
ward/commune handles), ``department`` (the reports routed to a city department), ``unit_or_department``
(a unit head: whichever of the two the account names) or ``city`` (every report). Permissions
that do not concern reports (disasters, hot spots, the hotline) are not scoped. Layer editing is
scoped the same way over layers: a city-wide role edits every editable layer, a department's
staff the layers their department owns (``LayerSpec.owner``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["unit", "department", "unit_or_department", "city"]
Kind = Literal["user", "api_key"]

# Report permissions (scoped by the role's scope).
READ_REPORTS = "reports.read"  # the staff queue and a report's staff view with its trail
HANDLE_REPORTS = "reports.handle"  # assign, start, resolve, reject, mark_duplicate, close, request_extension
ROUTE_REPORTS = "reports.route"  # reroute, escalate
DECIDE_EXTENSIONS = "reports.decide_extension"  # approve_extension, reject_extension
REPORTER_DATA = "reports.reporter_data"  # the reporter's name, phone and email
# Unscoped permissions.
RUN_ESCALATIONS = "reports.run_escalations"
HOTLINE = "hotline.operate"  # file reports for callers, log and list calls
DISASTERS = "disasters.write"  # create, update and cancel zones; flood exercises
HOTSPOTS = "hotspots.run"  # hot-spot runs and backtests (they publish layers)
LAYERS_IMPORT = "layers.import"  # import city files into layers, create and remove imported layers
OPEN311 = "open311.create"  # Open311 POST requests
# Layer permissions (scoped over layers by LayerSpec.owner).
EDIT_LAYERS = "layers.edit"  # create, replace, patch, delete features (OGC API Features Part 4); read history
RESTORE_FEATURES = "layers.restore"  # put a feature back to an earlier version from its history

OFFICER = frozenset({READ_REPORTS, HANDLE_REPORTS, ROUTE_REPORTS, REPORTER_DATA})
# A department's staff also maintain the layers it owns; ward officers do not edit layers.
DEPARTMENT_STAFF = OFFICER | {EDIT_LAYERS}


@dataclass(frozen=True)
class Role:
    """One role: its title, the permissions it holds and the reports they reach."""

    name: str
    title: str
    permissions: frozenset[str]
    scope: Scope = "city"
    kind: Kind = "user"


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role("ward_officer", "Ward/commune officer: their unit's reports", OFFICER, "unit"),
        Role(
            "department_officer",
            "Department officer: reports routed to their department, and the layers it owns",
            DEPARTMENT_STAFF,
            "department",
        ),
        Role(
            "unit_head",
            "Head of a ward/commune or department: as its officers, and decides extensions",
            DEPARTMENT_STAFF | {DECIDE_EXTENSIONS},
            "unit_or_department",
        ),
        Role(
            "operator",
            "HueIOC dispatcher / hotline operator: hotline, re-route and escalate any report",
            frozenset({READ_REPORTS, ROUTE_REPORTS, RUN_ESCALATIONS, HOTLINE}),
        ),
        Role("city_leader", "City leader: reads every queue and report (no personal data)", frozenset({READ_REPORTS})),
        Role("emergency_officer", "Emergency officer: disaster zones and flood exercises", frozenset({DISASTERS})),
        Role(
            "gis_admin",
            "GIS administrator: edits every editable layer and restores its history; hot-spot runs; city file imports",
            frozenset({HOTSPOTS, EDIT_LAYERS, RESTORE_FEATURES, LAYERS_IMPORT}),
        ),
        Role(
            "open311_client",
            "Machine: an Open311 client creating service requests",
            frozenset({OPEN311}),
            kind="api_key",
        ),
        Role(
            "hotline_system",
            "Machine: the hotline's call system (files reports, logs calls)",
            frozenset({HOTLINE}),
            kind="api_key",
        ),
    )
}
USER_ROLES = tuple(name for name, role in ROLES.items() if role.kind == "user")
KEY_ROLES = tuple(name for name, role in ROLES.items() if role.kind == "api_key")

# The permission each workflow action needs.
ACTION_PERMISSIONS: dict[str, str] = {
    **dict.fromkeys(
        ("assign", "start", "resolve", "reject", "mark_duplicate", "close", "request_extension"), HANDLE_REPORTS
    ),
    "reroute": ROUTE_REPORTS,
    "escalate": ROUTE_REPORTS,
    "approve_extension": DECIDE_EXTENSIONS,
    "reject_extension": DECIDE_EXTENSIONS,
}


def roles_with(permission: str) -> tuple[str, ...]:
    """The roles holding ``permission`` (for messages and documentation)."""
    return tuple(name for name, role in ROLES.items() if permission in role.permissions)
