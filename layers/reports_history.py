"""Load the generated citizen-report history into PostGIS: COPY, one transaction, synthetic rows only.

The history (:func:`layers.synth.reports.generate_report_history`) is written to four tables:
``citizen_reports``, ``report_events``, ``reporters`` (placeholder identities) and
``hotline_calls``. A load

* replaces the previous synthetic history (``synthetic = true`` rows and what hangs off them)
  and never touches a live row: if a live report or call points at a synthetic report, it stops
  with :class:`~geo.errors.Conflict` instead of breaking that link;
* reserves report ids from the table's sequence, so all four tables are written with COPY
  directly (no staging tables, no joins back), in COPY's text format built column by column;
* is skipped when the checksum of its inputs, code and parameters equals the one recorded in
  ``layer_loads`` under :data:`HISTORY_ID` (``force`` reloads);
* writes the generator's manifest (parameters, injected slow units, KPIs) next to the data, in
  ``<data_dir>/report-history-<db>.json`` (see :func:`manifest_path`);
* ends, unless told otherwise, on the day of the first setup: that end is kept in
  ``simulation_clock`` so later setups regenerate the same history (deterministic for a seed and
  an end date, both in the manifest), and the simulator (:mod:`layers.simulator`) carries the
  city on from there.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from tqdm import tqdm

from geo.errors import Conflict, DatabaseUnavailable
from geo.reports import intake, sla, workflow
from geo.reports.catalogue import CATALOGUE_FILE
from geo.reports.cells import rebuild_report_cells
from geo.settings import Settings
from geo.times import TZ
from layers.loaders import SYNTH_DIR
from layers.sources import (
    GEONAMES_FILE,
    STORMS_FILE,
    WARDS_FILE,
    WATER_FILE,
    read_storm_tracks,
    read_tourism_sites,
    synth_context,
)
from layers.synth.reports import HistoryParams, ReportHistory, generate_report_history

# The history's row in layer_loads: not "citizen_reports", whose live rows no loader owns.
HISTORY_ID = "citizen_reports_history"
INPUTS = (WARDS_FILE, WATER_FILE, GEONAMES_FILE, STORMS_FILE, CATALOGUE_FILE)
CHUNK_ROWS = 50_000
NULL = "\\N"

REPORT_COLUMNS = (
    "id", "code", "category", "description", "channel", "status", "priority", "admin_unit_code", "responsible_level",
    "department", "received_at", "due_at", "assigned_at", "started_at", "resolved_at", "closed_at", "escalated_at",
    "extension_status", "extension_hours", "extension_reason", "result_note", "rating", "rating_comment",
    "reopened_count", "duplicate_of", "synthetic", "geom",
)  # fmt: skip
EVENT_COLUMNS = ("report_id", "at", "actor", "action", "from_status", "to_status", "note", "details")
REPORTER_COLUMNS = ("report_id", "full_name", "phone", "email", "device_id")
CALL_COLUMNS = ("direction", "started_at", "duration_s", "operator", "caller_phone", "report_id", "note", "synthetic")


@dataclass(frozen=True)
class HistoryLoad:
    """What a history load did (``loaded`` false: unchanged, skipped) and how long it took."""

    params: HistoryParams
    checksum: str
    loaded: bool
    reports: int
    events: int = 0
    calls: int = 0
    reporters: int = 0
    generate_s: float = 0.0
    load_s: float = 0.0
    manifest: dict[str, Any] | None = None
    manifest_path: Path | None = None


def history_params(settings: Settings, **changes: Any) -> HistoryParams:
    """The history that ``huegis setup`` loads (settings ``history_count``, ``seed``, ``history_until``), changed.

    Without ``history_until`` it ends where the database's history already ends, or today (Huế time)
    for a new database: a living city has its past up to the first start, not up to a fixed day.
    """
    until = settings.history_until or recorded_until(settings) or datetime.now(TZ).date()
    base = HistoryParams(count=settings.history_count, seed=settings.seed, until=until)
    return replace(base, **changes)


def recorded_until(settings: Settings) -> date | None:
    """The end of the history loaded in the database (``simulation_clock``), if any and reachable."""
    try:
        with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
            row = conn.execute("SELECT history_until FROM simulation_clock WHERE id = 1").fetchone()
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return None
    return row[0] if row else None


def history_end(until: date) -> datetime:
    """The instant the history ends: midnight (Huế) starting ``until``."""
    return datetime.combine(until, datetime.min.time(), TZ)


def _set_clock(conn: psycopg.Connection, until: date, *, reset: bool) -> None:
    """Record the history's end; ``reset`` (a new history) also restarts the simulator there."""
    conn.execute(
        "INSERT INTO simulation_clock (id, history_until, simulated_until) VALUES (1, %(until)s, %(end)s) "
        "ON CONFLICT (id) DO UPDATE SET history_until = EXCLUDED.history_until, "
        "simulated_until = CASE WHEN %(reset)s THEN EXCLUDED.simulated_until "
        "ELSE simulation_clock.simulated_until END, updated_at = now()",
        {"until": until, "end": history_end(until), "reset": reset},
    )


def history_checksum(params: HistoryParams) -> str:
    """Digest of the history's inputs: data files, generator and loader code, parameters."""
    digest = hashlib.sha256(HISTORY_ID.encode())
    for path in INPUTS:
        digest.update(path.read_bytes())
    for path in sorted(SYNTH_DIR.glob("*.py")):
        digest.update(path.read_bytes())
    for module in (sla, workflow, intake):  # deadlines, extension cap, code alphabet
        digest.update(inspect.getsource(module).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(json.dumps(params.as_dict(), sort_keys=True).encode())
    return digest.hexdigest()


def build_history(
    settings: Settings, params: HistoryParams, avoid_codes: frozenset[str] = frozenset(), *, events: bool = True
) -> ReportHistory:
    """Generate the history from the shipped data (wards, land, places, storms, tourism sites)."""
    return generate_report_history(
        synth_context(settings.seed),
        params,
        storms=read_storm_tracks(),
        tourism_sites=read_tourism_sites(),
        avoid_codes=avoid_codes,
        events=events,
    )


def manifest_path(settings: Settings) -> Path:
    """Where the manifest of the database's history is written: beside its OpenAPI document.

    That is the directory of per-database generated files (``<data_dir>`` by default; the test
    harness points it at a temporary directory, so throwaway databases leave nothing behind).
    """
    return settings.pygeoapi_openapi.parent / f"report-history-{settings.db_name}.json"


def load_history(
    settings: Settings, params: HistoryParams | None = None, *, force: bool = False, progress: bool = True
) -> HistoryLoad:
    """Generate and load the report history in one transaction, unless already loaded unchanged."""
    params = params or history_params(settings)
    params.validate()
    digest = history_checksum(params)
    try:
        conn = psycopg.connect(settings.conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    path = manifest_path(settings)
    with conn:
        previous = conn.execute("SELECT checksum, rows FROM layer_loads WHERE layer_id = %s", (HISTORY_ID,)).fetchone()
        if previous and previous[0] == digest and not force:
            _set_clock(conn, params.until, reset=False)
            manifest = json.loads(path.read_text()) if path.exists() else None
            return HistoryLoad(params, digest, loaded=False, reports=previous[1], manifest=manifest,
                               manifest_path=path if manifest else None)  # fmt: skip
        started = time.perf_counter()
        history = build_history(settings, params)
        generated = time.perf_counter()
        with conn.transaction():
            _refuse_live_links(conn)
            _delete_synthetic(conn)
            taken = _taken_codes(conn, history.reports["code"])
            if taken:  # a live report holds one of our codes (odds ~1e-7 each): pick spare codes instead
                history = build_history(settings, params, avoid_codes=frozenset(taken))
            write_history(conn, history, progress=progress)
            conn.execute(
                "INSERT INTO layer_loads (layer_id, checksum, rows) VALUES (%s, %s, %s) "
                "ON CONFLICT (layer_id) DO UPDATE SET checksum = EXCLUDED.checksum, rows = EXCLUDED.rows, "
                "loaded_at = now()",
                (HISTORY_ID, digest, len(history.reports)),
            )
            _set_clock(conn, params.until, reset=True)  # simulated reports went with the old history
        for table in ("citizen_reports", "report_events", "reporters", "hotline_calls"):
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        rebuild_report_cells(conn)  # the low-zoom report tiles' counts, whole again
        loaded = time.perf_counter()
    manifest = {**history.manifest, "checksum": digest}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return HistoryLoad(
        params, digest, loaded=True, reports=len(history.reports), events=len(history.events),
        calls=len(history.calls), reporters=len(history.reporters), generate_s=generated - started,
        load_s=loaded - generated, manifest=manifest, manifest_path=path,
    )  # fmt: skip


# --- inside the transaction ------------------------------------------------------------------


def _refuse_live_links(conn: psycopg.Connection) -> None:
    """Stop if a live row points at a synthetic report: deleting it would break (or null) that link."""
    dups = conn.execute(
        "SELECT r.code FROM citizen_reports r JOIN citizen_reports s ON s.id = r.duplicate_of "
        "WHERE NOT r.synthetic AND s.synthetic ORDER BY r.code LIMIT 5"
    ).fetchall()
    if dups:
        raise Conflict(
            f"live reports are marked duplicates of synthetic ones ({', '.join(r[0] for r in dups)}); "
            "reloading the history would break them: point them elsewhere first"
        )
    calls = conn.execute(
        "SELECT count(*) FROM hotline_calls c JOIN citizen_reports s ON s.id = c.report_id "
        "WHERE NOT c.synthetic AND s.synthetic"
    ).fetchone()
    if calls and calls[0]:
        raise Conflict(f"{calls[0]} live hotline calls are linked to synthetic reports; reloading would unlink them")


def _delete_synthetic(conn: psycopg.Connection) -> None:
    """Remove the previous history; children first, in bulk (cheaper than one cascade per report)."""
    conn.execute("DELETE FROM hotline_calls WHERE synthetic")
    conn.execute("DELETE FROM report_events e USING citizen_reports r WHERE e.report_id = r.id AND r.synthetic")
    conn.execute("DELETE FROM reporters p USING citizen_reports r WHERE p.report_id = r.id AND r.synthetic")
    conn.execute("DELETE FROM citizen_reports WHERE synthetic")


def _taken_codes(conn: psycopg.Connection, codes: pd.Series) -> set[str]:
    """Codes of the new history that live reports already hold."""
    rows = conn.execute("SELECT code FROM citizen_reports WHERE code = ANY(%s)", (list(codes),)).fetchall()
    return {r[0] for r in rows}


def write_history(conn: psycopg.Connection, history: ReportHistory, *, progress: bool = True) -> None:
    """COPY a history into the four tables inside the caller's transaction (old rows already gone)."""
    reports = history.reports
    ids = _reserve_ids(conn, len(reports))
    id_of = pd.array(ids, dtype="Int64")

    def report_id(idx: pd.Series) -> pd.Series:
        """Database ids for report numbers (missing stays missing)."""
        values = idx.astype("Int64")
        out = pd.Series(pd.array([pd.NA] * len(values), dtype="Int64"), index=values.index)
        present = values.notna().to_numpy()
        out[present] = id_of[values[present].to_numpy(dtype=np.int64)]
        return out

    frames = {
        "citizen_reports": (
            pd.DataFrame(reports.drop(columns="geom")).assign(
                id=ids,
                duplicate_of=report_id(reports["duplicate_idx"]),
                geom=shapely.to_wkb(shapely.set_srid(reports.geometry.values, 4326), hex=True, include_srid=True),
            ),
            REPORT_COLUMNS,
        ),
        "report_events": (history.events.assign(report_id=report_id(history.events["report_idx"])), EVENT_COLUMNS),
        "reporters": (history.reporters.assign(report_id=report_id(history.reporters["report_idx"])), REPORTER_COLUMNS),
        "hotline_calls": (history.calls.assign(report_id=report_id(history.calls["report_idx"])), CALL_COLUMNS),
    }
    total = sum(len(frame) for frame, _ in frames.values())
    with (
        tqdm(
            total=total,
            desc="Loading report history",
            unit="row",
            unit_scale=True,
            disable=not progress,
            mininterval=0.5,
        ) as bar,  # fmt: skip
        conn.cursor() as cur,
    ):
        for table, (frame, columns) in frames.items():
            bar.set_postfix_str(table)
            _copy(cur, table, frame, columns, bar)


def _reserve_ids(conn: psycopg.Connection, n: int) -> np.ndarray:
    """``n`` fresh ids from ``citizen_reports``' own sequence (safe alongside live inserts)."""
    row = conn.execute(
        "SELECT array_agg(nextval(pg_get_serial_sequence('citizen_reports', 'id'))) FROM generate_series(1, %s)", (n,)
    ).fetchone()
    return np.asarray(row[0] if row and row[0] else [], dtype=np.int64)


def _copy(cur: psycopg.Cursor, table: str, frame: pd.DataFrame, columns: Sequence[str], bar: tqdm) -> None:
    """COPY ``columns`` of ``frame`` into ``table`` (text format), in chunks that move the bar."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with cur.copy(statement) as copy:
        for start in range(0, len(frame), CHUNK_ROWS):
            part = frame.iloc[start : start + CHUNK_ROWS]
            copy.write(_text_rows(part[c] for c in columns).encode())
            bar.update(len(part))


def _text_rows(columns: Iterable[pd.Series]) -> str:
    """Rows in COPY's text format: tab-separated, ``\\N`` for NULL, special characters escaped."""
    rendered = [_text(column) for column in columns]
    return "".join(f"{line}\n" for line in map("\t".join, zip(*rendered, strict=True)))


def _text(column: pd.Series) -> list[str]:
    """One column as COPY text values (timestamps in UTC ISO 8601, booleans t/f)."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        stamps = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[s]")
        text = np.datetime_as_string(stamps, unit="s")
        return np.where(np.isnat(stamps), NULL, np.char.add(text, "Z")).tolist()
    if pd.api.types.is_bool_dtype(column.dtype):
        return np.where(column.to_numpy(dtype=bool), "t", "f").tolist()
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.astype("string").fillna(NULL).tolist()
    values = column.astype(object)
    missing = values.isna().to_numpy()
    strings = values.where(~missing, "").astype(str)
    if strings.str.contains(r"[\\\t\n\r]", regex=True).any():
        strings = (
            strings.str.replace("\\", "\\\\", regex=False)
            .str.replace("\t", "\\t", regex=False)
            .str.replace("\n", "\\n", regex=False)
            .str.replace("\r", "\\r", regex=False)
        )
    return np.where(missing, NULL, strings.to_numpy(dtype=object)).tolist()


def describe(result: HistoryLoad) -> str:
    """Human summary of a load: what, how fast, the headline figures, where the manifest is."""
    if not result.loaded:
        return f"report history unchanged ({result.reports:,} reports); --force reloads it"
    lines = [
        f"generated {result.reports:,} reports in {result.generate_s:.1f} s; loaded them with "
        f"{result.events:,} events, {result.calls:,} hotline calls and {result.reporters:,} placeholder "
        f"reporters in {result.load_s:.1f} s",
    ]
    if result.manifest:
        lines.append(describe_kpis(result.manifest["kpis"]))
        slow = result.manifest.get("slow_units") or []
        for unit in slow:
            since = f" from {unit['since']}" if unit.get("since") else ""
            lines.append(f"slow unit {unit['code']} ({unit['name']}): {unit['stage']} × {unit['factor']}{since}, "
                         f"{unit['reports']:,} reports")  # fmt: skip
    if result.manifest_path:
        lines.append(f"manifest: {result.manifest_path}")
    return "\n".join(lines)


def describe_kpis(kpis: dict[str, Any]) -> str:
    """The headline figures of a generated history, one line each."""
    per_year = ", ".join(f"{y}: {v['reports']:,}" for y, v in kpis["by_year"].items())
    y2022 = kpis["by_year"].get("2022")
    split = (f" (2022: {y2022['on_time_pct']} % on time, {y2022['late_with_extension_pct']} % late with extension)"
             if y2022 else "")  # fmt: skip
    top = ", ".join(f"{c} {n:,}" for c, n in list(kpis["top_categories"].items())[:5])
    return "\n".join(
        [
            f"processed {kpis['processed_pct']} %, satisfied {kpis['satisfied_pct']} %, on time "
            f"{kpis['on_time_pct']} %, late with extension {kpis['late_with_extension_pct']} %, "
            f"breached {kpis['breached_pct']} %{split}",
            f"reports per year: {per_year}",
            f"top categories: {top}",
            f"hotline: {kpis['hotline_in']:,} in ({kpis['hotline_in_linked']:,} filed a report), "
            f"{kpis['hotline_out']:,} out",
        ]
    )
