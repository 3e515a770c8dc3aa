"""Who is acting (``Principal``) and the checks every service runs before it acts for them.

Each check raises ``Forbidden`` with a message naming what is missing: the permission and the
roles that hold it, or the unit/department the report belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from geo.audit import Actor
from geo.auth.roles import ACTION_PERMISSIONS, READ_REPORTS, REPORTER_DATA, ROLES, Role, roles_with
from geo.errors import Forbidden, InvalidInput


@dataclass(frozen=True)
class Principal:
    """An authenticated staff member or machine client, with its role and scope."""

    username: str
    role: str
    unit_code: str | None = None
    department: str | None = None
    kind: Literal["user", "api_key"] = "user"
    # The account's staff_users.token_version: tokens carry it, and a change to the account bumps it.
    token_version: int = 0

    @property
    def spec(self) -> Role:
        return ROLES[self.role]

    def can(self, permission: str) -> bool:
        return permission in self.spec.permissions

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role)

    def describe(self) -> str:
        """'alice (ward_officer of 19753)': for messages and logs."""
        where = self.unit_code or self.department
        return f"{self.username} ({self.role}{f' of {where}' if where else ''})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "unit_code": self.unit_code,
            "department": self.department,
            "kind": self.kind,
            "permissions": sorted(self.spec.permissions),
        }


def require(principal: Principal, permission: str) -> None:
    """Forbidden unless the principal's role holds ``permission``."""
    if not principal.can(permission):
        holders = ", ".join(roles_with(permission)) or "no role"
        raise Forbidden(f"{principal.describe()} lacks permission {permission!r} (held by: {holders})")


def handler_of(report: Mapping[str, Any]) -> str:
    """Who must act on a report: 'unit 19753' or 'department so_xay_dung'."""
    if report["responsible_level"] == "ward":
        return f"unit {report['admin_unit_code']}"
    return f"department {report['department']}"


def in_scope(principal: Principal, report: Mapping[str, Any]) -> bool:
    """True when the report's responsible unit or department is within the principal's scope."""
    if principal.spec.scope == "city":
        return True
    if report["responsible_level"] == "ward":
        return principal.unit_code is not None and report["admin_unit_code"] == principal.unit_code
    return principal.department is not None and report["department"] == principal.department


def require_on_report(principal: Principal, permission: str, report: Mapping[str, Any]) -> None:
    """Forbidden unless the principal holds ``permission`` and the report is within its scope."""
    require(principal, permission)
    if not in_scope(principal, report):
        raise Forbidden(
            f"report {report['code']} is handled by {handler_of(report)}; "
            f"{principal.describe()} may act only on its own {principal.spec.scope.replace('_', ' ')}'s reports"
        )


def require_on_layer(principal: Principal, permission: str, layer_id: str, owner: str | None) -> None:
    """Forbidden unless the principal holds ``permission`` and the layer is within its scope (its department's)."""
    require(principal, permission)
    if principal.spec.scope != "city" and (owner is None or principal.department != owner):
        keeper = f"department {owner} and the GIS administrators" if owner else "the GIS administrators"
        raise Forbidden(f"layer {layer_id} is maintained by {keeper}; {principal.describe()} may not act on it")


def require_action(principal: Principal, action: str) -> str:
    """The permission ``action`` needs, checked against the role (not yet the report); Forbidden if missing."""
    permission = ACTION_PERMISSIONS.get(action)
    if permission is None:
        raise InvalidInput(f"unknown action {action!r}; one of {', '.join(ACTION_PERMISSIONS)}")
    require(principal, permission)
    return permission


def may_see_reporter(principal: Principal, report: Mapping[str, Any]) -> bool:
    """Reporters' personal data is for the unit or department handling the report (and its head) only."""
    return principal.can(REPORTER_DATA) and in_scope(principal, report)


def queue_scope(principal: Principal, *, unit: str | None, department: str | None) -> tuple[str | None, str | None]:
    """The (unit, department) filter of a staff queue: the principal's own scope unless it reaches the city."""
    require(principal, READ_REPORTS)
    if principal.spec.scope == "city":
        return unit, department
    own_unit, own_department = principal.unit_code, principal.department
    if (unit and unit != own_unit) or (department and department != own_department):
        asked = " and ".join(x for x in (unit and f"unit {unit}", department and f"department {department}") if x)
        raise Forbidden(f"{principal.describe()} may read only its own queue, not {asked}")
    return own_unit, own_department


def check_scope(role: str, *, unit_code: str | None, department: str | None) -> None:
    """InvalidInput unless the role and the unit/department given for it fit together."""
    spec = ROLES.get(role)
    if spec is None:
        raise InvalidInput(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    needs = {
        "unit": (unit_code is not None and department is None, "needs --unit (a ward/commune code) and no department"),
        "department": (department is not None and unit_code is None, "needs --department and no unit"),
        "unit_or_department": (
            (unit_code is None) != (department is None),
            "needs exactly one of --unit or --department",
        ),
        "city": (unit_code is None and department is None, "reaches the whole city: give no unit or department"),
    }
    fits, message = needs[spec.scope]
    if not fits:
        raise InvalidInput(f"role {role} {message}")
