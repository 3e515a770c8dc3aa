"""A national-scale report history: Huế's generator run once per province, for scaling measurements.

Vietnam has 34 provincial units since 1 July 2025. ``data/national/provinces.csv`` lists each one's
administrative centre (lon/lat, rounded) and population (rounded, approximate): enough to place
synthetic copies, not an authoritative source. Every province but Huế gets a copy of Huế's wards
and communes translated so that Huế's centre lands on the province's (codes: a letter per province
and the last four digits of Huế's), and a history from :func:`layers.synth.reports.generate_report_history`
(its own seed, ``reports × population share`` reports) translated the same way, with report
codes prefixed by the province (``HNI-…``). Copies overlap where centres are closer than Huế is wide:
the point is the number and the density of rows, as a country would put on one database.

The load replaces the synthetic history (Huế's included) and the copies of a previous load; live
rows are never touched. Each province is written in its own transaction (COPY, as the Huế history)
with a marker in ``layer_loads``, so an interrupted load of the same input resumes where it stopped.
"""

from __future__ import annotations

import csv
import hashlib
import json
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import psycopg
import shapely

from geo.errors import DatabaseUnavailable, InvalidInput
from geo.reports.cells import rebuild_report_cells
from geo.settings import Settings
from layers.reports_history import (
    HISTORY_ID,
    _delete_synthetic,
    _refuse_live_links,
    build_history,
    history_checksum,
    history_params,
    write_history,
)
from layers.synth.reports import ReportHistory

PROVINCES_FILE = Path(__file__).with_name("data") / "national" / "provinces.csv"
NATIONAL_ID = "citizen_reports_national"
COPY_SOURCE = "huegis national copy of Huế's units (layers/national.py)"
HUE = "HUE"
# One letter per province copy in the first place of the unit code (Huế's codes are all digits).
LETTERS = string.ascii_uppercase + string.ascii_lowercase


@dataclass(frozen=True)
class Province:
    """A provincial unit: three-letter prefix, name, administrative centre (lon/lat) and population."""

    abbr: str
    name: str
    lon: float
    lat: float
    population: int


@dataclass(frozen=True)
class NationalLoad:
    reports: int
    events: int
    provinces: int
    seconds: float
    loaded: bool
    resumed: int = 0  # provinces an interrupted load had committed before this run


def read_provinces(path: Path = PROVINCES_FILE) -> list[Province]:
    """The 34 provincial units of ``provinces.csv``."""
    with path.open(encoding="utf-8") as fh:
        return [Province(r["abbr"], r["name"], float(r["lon"]), float(r["lat"]), int(r["population"]))
                for r in csv.DictReader(fh)]  # fmt: skip


def shares(provinces: list[Province], total: int) -> list[int]:
    """Reports per province in proportion to population, summing exactly to ``total``."""
    weights = np.array([p.population for p in provinces], dtype=float)
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(int)
    counts[np.argsort(exact - counts)[::-1][: total - counts.sum()]] += 1  # largest remainders
    return counts.tolist()


def load_national(settings: Settings, total: int, *, events: bool = True, force: bool = False,
                  progress: Callable[[str, int], None] | None = None) -> NationalLoad:  # fmt: skip
    """Generate and load ``total`` reports over the 34 provinces (see the module docstring).

    ``events``: also the workflow events (~5.7 per report); without them only reports, reporters
    and hotline calls (a quicker load for the feature, tile and KPI measurements).
    """
    if total < 1000:
        raise InvalidInput(f"a national history needs at least 1,000 reports, got {total}")
    provinces = read_provinces()
    hue = next(p for p in provinces if p.abbr == HUE)
    counts = shares(provinces, total)
    base = history_params(settings)
    digest = hashlib.sha256(
        json.dumps({"total": total, "events": events, "provinces": PROVINCES_FILE.read_text()}).encode()
        + history_checksum(replace(base, count=total)).encode()  # the generator's code and parameters
        + Path(__file__).read_bytes()
    ).hexdigest()
    started = time.perf_counter()
    try:
        conn = psycopg.connect(settings.conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    with conn:
        done = conn.execute("SELECT checksum, rows FROM layer_loads WHERE layer_id = %s", (NATIONAL_ID,)).fetchone()
        if done and done[0] == digest and not force:
            return NationalLoad(done[1], 0, len(provinces), 0.0, loaded=False)
        # An interrupted load of the same input resumes after its last whole province (each one is
        # committed with its marker); anything else starts over.
        finished: dict[str, int] = {} if force else dict(conn.execute(
            "SELECT substr(layer_id, length(%s) + 2), rows FROM layer_loads WHERE layer_id LIKE %s AND checksum = %s",
            (NATIONAL_ID, f"{NATIONAL_ID}:%", digest),
        ).fetchall())  # fmt: skip
        if not finished:
            with conn.transaction():
                _refuse_live_links(conn)
                _delete_synthetic(conn)
                copies = "SELECT code FROM admin_units WHERE source = %s"
                conn.execute(f"DELETE FROM kpi_unit_month WHERE unit_code IN ({copies})", (COPY_SOURCE,))
                conn.execute(f"DELETE FROM kpi_unit_shapes WHERE unit_code IN ({copies})", (COPY_SOURCE,))
                conn.execute("DELETE FROM admin_units WHERE source = %s", (COPY_SOURCE,))
                conn.execute("DELETE FROM layer_loads WHERE layer_id IN (%s, %s) OR layer_id LIKE %s",
                             (HISTORY_ID, NATIONAL_ID, f"{NATIONAL_ID}:%"))  # fmt: skip
        written = sum(finished.values())
        events_written = 0
        for number, (province, count) in enumerate(zip(provinces, counts, strict=True)):
            if province.abbr in finished:
                if progress:
                    progress(province.name, finished[province.abbr])
                continue
            letter = None if province.abbr == HUE else LETTERS[number % len(LETTERS)]
            dx, dy = province.lon - hue.lon, province.lat - hue.lat
            with conn.transaction():
                if letter:
                    _copy_units(conn, province, letter, dx, dy)
                history = build_history(settings, replace(base, count=count, seed=base.seed + 7919 * number,
                                                          slow_units=()), events=events)  # fmt: skip
                if letter:
                    _move(history, province, letter, dx, dy)
                write_history(conn, history, progress=False)
                conn.execute("INSERT INTO layer_loads (layer_id, checksum, rows) VALUES (%s, %s, %s)",
                             (f"{NATIONAL_ID}:{province.abbr}", digest, len(history.reports)))  # fmt: skip
            written += len(history.reports)
            events_written += len(history.events)
            if progress:
                progress(province.name, len(history.reports))
        with conn.transaction():
            conn.execute(
                "INSERT INTO layer_loads (layer_id, checksum, rows) VALUES (%s, %s, %s) ON CONFLICT (layer_id) "
                "DO UPDATE SET checksum = EXCLUDED.checksum, rows = EXCLUDED.rows, loaded_at = now()",
                (NATIONAL_ID, digest, written),
            )
            conn.execute("DELETE FROM layer_loads WHERE layer_id LIKE %s", (f"{NATIONAL_ID}:%",))
        for table in ("admin_units", "citizen_reports", "report_events", "reporters", "hotline_calls"):
            conn.execute(psycopg.sql.SQL("ANALYZE {}").format(psycopg.sql.Identifier(table)))
        rebuild_report_cells(conn)  # the low-zoom report tiles' counts, whole again
    return NationalLoad(written, events_written, len(provinces), time.perf_counter() - started, loaded=True,
                        resumed=len(finished))  # fmt: skip


def _copy_units(conn: psycopg.Connection, province: Province, letter: str, dx: float, dy: float) -> None:
    """Huế's city, wards and communes translated to the province, codes ``<letter><last 4 digits>``."""
    conn.execute(
        """
        INSERT INTO admin_units (code, name, name_ascii, level, parent_code, population, area_km2, seat,
                                 merged_from, source, synthetic, geom)
        SELECT %(letter)s || right(code, 4), %(province)s || ' · ' || name, name_ascii, level,
               CASE WHEN parent_code IS NULL THEN NULL ELSE %(letter)s || right(parent_code, 4) END,
               population, area_km2, seat, merged_from, %(source)s, true, ST_Translate(geom, %(dx)s, %(dy)s)
        FROM admin_units
        WHERE code ~ '^[0-9]+$'  -- Huế's own units (the copies' codes start with a letter)
        ORDER BY level = 'city' DESC, code  -- the city first: the wards' parent
        """,
        {"letter": letter, "province": province.name, "source": COPY_SOURCE, "dx": dx, "dy": dy},
    )


def _move(history: ReportHistory, province: Province, letter: str, dx: float, dy: float) -> None:
    """Translate a Huế history to a province: points, unit codes and the report codes' prefix."""
    reports = history.reports
    moved = shapely.transform(reports.geometry.values, lambda xy: xy + np.array([dx, dy]))
    reports[reports.geometry.name] = moved  # the active geometry column (the loader writes that one)
    reports["admin_unit_code"] = letter + reports["admin_unit_code"].str[-4:]
    reports["code"] = province.abbr + reports["code"].str[len(HUE) :]
