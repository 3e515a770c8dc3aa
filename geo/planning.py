"""The planning-conflict check: does what is built (or reported) fit the planning zone it stands in?

For each live construction permit and each construction-violation report, the planning zone and
land parcel at its point and a verdict from the rule table (zone type × building use, zone type ×
land use; ``layers/data/catalogue/planning_rules.yml``): allowed, conditional, conflict, or
unknown when no zone or no rule says; a report without a live permit within 50 m is ``no_permit``.
The checks are SQL functions (migration 0016) that keep the ``planning_conflicts`` layer by
triggers; this module loads the rules and reads the checks for the API and the CLI.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from geo import models
from geo.db import fetch_all, fetch_one, load_sql

RULES_FILE = Path(__file__).resolve().parents[1] / "layers" / "data" / "catalogue" / "planning_rules.yml"
REPORT_CATEGORY = "construction_violation"
PERMIT_RADIUS_M = 50  # huegis_planning_report's default: a permit this close covers a reported site


def read_rules(path: Path = RULES_FILE) -> list[dict[str, Any]]:
    """The rule table as rows; ``ValueError`` naming a gap, a duplicate or an unknown zone type or code."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    notes = {(n["zone_type"], n["subject"], n["use"]): n["note"] for n in data.get("notes", [])}
    rows: list[dict[str, Any]] = []
    for subject in models.RULE_SUBJECTS:
        table = data[subject]
        unknown = sorted(set(table) - set(models.ZONE_TYPES))
        missing = sorted(set(models.ZONE_TYPES) - set(table))
        if unknown or missing:
            raise ValueError(f"{path.name} {subject}: unknown zone types {unknown}, missing zone types {missing}")
        uses = set(models.LAND_USES) if subject == "land_use" else None
        for zone_type, verdicts in table.items():
            listed = [(use, verdict) for verdict in models.VERDICTS for use in verdicts.get(verdict) or ()]
            counts = Counter(use for use, _ in listed)
            twice = sorted(use for use, n in counts.items() if n > 1)
            if twice or set(verdicts) - set(models.VERDICTS):
                raise ValueError(f"{path.name} {subject}.{zone_type}: {twice or sorted(verdicts)} listed twice or "
                                 f"under a verdict other than {', '.join(models.VERDICTS)}")  # fmt: skip
            uses = uses if uses is not None else set(counts)  # building uses: the first zone type's list
            if set(counts) != uses:
                raise ValueError(f"{path.name} {subject}.{zone_type}: lists {sorted(set(counts) - uses)} "
                                 f"and misses {sorted(uses - set(counts))}")  # fmt: skip
            rows += [{"zone_type": zone_type, "subject": subject, "use": use, "verdict": verdict,
                      "note": notes.pop((zone_type, subject, use), None)} for use, verdict in listed]  # fmt: skip
    if notes:
        raise ValueError(f"{path.name}: notes on rules that do not exist: {sorted(notes)}")
    return rows


def load_rules(conn: psycopg.Connection, path: Path = RULES_FILE) -> int:
    """Replace the rule table when the file changed (which rewrites the conflicts layer); the rows in the file."""
    rows = read_rules(path)
    current = conn.execute(load_sql("planning/rules")).fetchall()
    wanted = {tuple(row.values()) for row in rows}
    if set(current) != wanted:
        with conn.transaction():
            conn.execute("DELETE FROM planning_rules")
            conn.execute(load_sql("planning/insert_rules"), {"rules": Jsonb(rows)})
    return len(rows)


async def report_planning(conn: AsyncConnection, *, code: str) -> dict[str, Any] | None:
    """The planning check of a report's location (its staff view shows it for construction reports)."""
    return await fetch_one(conn, "planning/report", {"code": code})


async def permit_planning(conn: AsyncConnection, *, permit_no: str) -> dict[str, Any]:
    """One construction permit with its zone, parcel and verdicts; ``NotFound`` for an unknown number."""
    return await fetch_one(conn, "planning/permit", {"permit_no": permit_no}, missing=f"no permit {permit_no!r}")


async def list_rules(conn: AsyncConnection) -> list[dict[str, Any]]:
    """The rule table in the database."""
    return await fetch_all(conn, "planning/rules")


async def refresh_conflicts(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Rewrite the conflicts layer now; its features by subject and verdict."""
    async with conn.transaction():
        await conn.execute(load_sql("planning/refresh"))
    return await fetch_all(conn, "planning/counts")
