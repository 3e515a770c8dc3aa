"""The category catalogue (``layers/data/catalogue/report_categories.yml``) in the database."""

from __future__ import annotations

from pathlib import Path

import psycopg
import yaml
from psycopg.types.json import Jsonb

# The operations centre: where ward-level reports go when they are escalated to the city level.
ESCALATION_DEPARTMENT = "trung_tam_ioc"
CATALOGUE_FILE = Path(__file__).resolve().parents[2] / "layers" / "data" / "catalogue" / "report_categories.yml"

CATEGORY_COLUMNS = (
    "code", "name_vi", "name_en", "description_vi", "description_en", "group_name", "keywords", "level",
    "department", "sla_hours", "duplicate_radius_m", "duplicate_window_days", "attributes", "sort_order",
)  # fmt: skip


def read_catalogue(path: Path = CATALOGUE_FILE) -> dict[str, list[dict]]:
    """Departments and categories as plain dicts, validated for the fields the table needs."""
    data = yaml.safe_load(path.read_text())
    departments = {d["code"] for d in data["departments"]}
    for order, category in enumerate(data["categories"]):
        category.setdefault("department", None)
        category.setdefault("attributes", [])
        category["sort_order"] = order
        if category["department"] is not None and category["department"] not in departments:
            raise ValueError(f"category {category['code']!r} names unknown department {category['department']!r}")
    return data


def load_catalogue(conn: psycopg.Connection, path: Path = CATALOGUE_FILE) -> int:
    """Upsert departments and categories (idempotent); return the number of categories."""
    data = read_catalogue(path)
    columns = ", ".join(CATEGORY_COLUMNS)
    placeholders = ", ".join(f"%({c})s" for c in CATEGORY_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in CATEGORY_COLUMNS if c != "code")
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO departments (code, name_vi, name_en) VALUES (%(code)s, %(name_vi)s, %(name_en)s) "
            "ON CONFLICT (code) DO UPDATE SET name_vi = EXCLUDED.name_vi, name_en = EXCLUDED.name_en",
            data["departments"],
        )
        cur.executemany(
            f"INSERT INTO report_categories ({columns}) VALUES ({placeholders}) "
            f"ON CONFLICT (code) DO UPDATE SET {updates}",
            [{**c, "attributes": Jsonb(c["attributes"])} for c in data["categories"]],
        )
    return len(data["categories"])
