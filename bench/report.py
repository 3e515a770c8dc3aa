"""The benchmark's output: one table per scenario, the machine it ran on, and the JSON record."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from bench.load import Measurement
from bench.scenarios import ScenarioResult
from bench.servers import TIPG_VENV
from geo.settings import PROJECT_DIR, Settings


def _first_line(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def _meminfo_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine(settings: Settings) -> dict[str, Any]:
    """Facts about the machine and the software measured."""
    with psycopg.connect(settings.conninfo()) as conn:
        row = conn.execute("SELECT version(), postgis_lib_version(), current_setting('shared_buffers')").fetchone()
    assert row is not None
    tipg_python = TIPG_VENV / "bin" / "python"
    tipg = (
        _first_line([str(tipg_python), "-c", "import importlib.metadata as m; print(m.version('tipg'))"])
        if tipg_python.exists()
        else None
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _meminfo_gib(),
        "kernel": platform.release(),
        # Other work on the machine skews every number: the 1/5/15-minute load averages at the end.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "postgresql": row[0].split(" on ")[0],
        "postgis": row[1],
        "shared_buffers": row[2],
        "database": settings.db_name,
        "pygeoapi": _version("pygeoapi"),
        "tipg": tipg,
        "wrk": _first_line(["wrk", "--version"]) if shutil.which("wrk") else None,
        "commit": _first_line(["git", "-C", str(PROJECT_DIR), "rev-parse", "--short", "HEAD"]),
    }


def _rate(rate: float) -> str:
    """1,034.0 / 14.9 / 0.087: three significant digits at least."""
    return f"{rate:,.1f}" if rate >= 10 else f"{rate:.3g}"


def _ratio(ours: Measurement | None, other: Measurement) -> str:
    """ours' rate over the other's (above 1: ours is faster); blank without both."""
    return f"{ours.rate / other.rate:.2f}" if ours and other.rate else ""


def table(result: ScenarioResult) -> str:
    """The scenario as a fixed-width table with the ratio ours / each other row (unless not comparable)."""
    ours = None if result.no_ratio else next((m for m in result.measurements if m.server == "ours"), None)
    lines = [f"\n{result.id}: {result.title}"]
    lines += [f"  · {check}" for check in result.checks]
    header = f"  {'server':10} {result.unit:>10} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7} {'ours/this':>10}  loader"
    lines.append(header)
    for m in result.measurements:
        lines.append(f"  {m.server:10} {_rate(m.rate):>10} {m.p50_ms:9.1f} {m.p99_ms:9.1f} {m.errors:7d} "
                     f"{_ratio(ours, m):>10}  {m.loader}")  # fmt: skip
    if result.no_ratio:
        lines.append(f"  (no ratio: {result.no_ratio})")
    lines += [f"  !! {flag}" for flag in result.flags]
    return "\n".join(lines)


def markdown(results: list[ScenarioResult]) -> str:
    """All scenarios as one Markdown table (for docs/benchmarks.md)."""
    lines = [
        "| scenario | server | rate | p50 ms | p99 ms | errors | ours / this |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        ours = None if result.no_ratio else next((m for m in result.measurements if m.server == "ours"), None)
        for m in result.measurements:
            lines.append(f"| {result.id} | {m.server} | {_rate(m.rate)} {result.unit} | {m.p50_ms:,.1f} | "
                         f"{m.p99_ms:,.1f} | {m.errors} | {_ratio(ours, m)} |")  # fmt: skip
    return "\n".join(lines)


# Which of our rows does the same work as which other row, and why (the like-for-like table).
PAIRS: tuple[tuple[str, str, str, str], ...] = (
    (
        "items-bbox",
        "ours-count",
        "tipg",
        "exact numberMatched on every request (tipg cannot skip it)",
    ),
    ("items-bbox", "ours-count", "pygeoapi", "exact numberMatched counted on every request (0.21 cannot skip it)"),
    ("items-bbox", "ours", "raw SQL", "no count (ours reuses its cached count), 7 decimals, same properties"),
    ("items-paging", "ours-count", "tipg", "exact numberMatched counted on every request"),
    ("items-paging", "ours-count", "pygeoapi", "exact numberMatched counted on every request"),
    ("items-paging", "ours", "raw SQL", "no count (ours reuses its cached count), 7 decimals"),
    ("feature", "ours", "tipg", "one feature by the report code"),
    ("feature", "ours", "pygeoapi", "one feature by the report code"),
    ("feature", "ours", "raw SQL", "one feature, 7 decimals"),
    ("tiles-cold", "ours", "tipg", "every tile rendered (our cache invalidated before each pass; tipg has none)"),
    ("tiles-cold", "ours", "raw SQL", "the same ST_AsMVT statement without HTTP"),
    ("kpi", "ours", "raw SQL", "the same KPI statement without HTTP"),
    ("gistar", "ours", "esda", "the same Gi* on the same counts and weights"),
)
LABELS = {"ours": "ours", "ours-count": "ours, counting every request"}


def like_for_like(results: list[ScenarioResult]) -> str:
    """Markdown: each of our figures against the row that does the same work, and the cache hit figure apart."""
    by_id = {r.id: {m.server: m for m in r.measurements} for r in results}
    units = {r.id: r.unit for r in results}
    lines = ["| scenario | ours | rate | compared with | rate | ours / it | the same work |",
             "|---|---|---:|---|---:|---:|---|"]  # fmt: skip
    for scenario, mine, other, why in PAIRS:
        rows = by_id.get(scenario, {})
        if mine in rows and other in rows:
            a, b = rows[mine], rows[other]
            lines.append(f"| {scenario} | {LABELS[mine]} | {_rate(a.rate)} {units[scenario]} | {other} | "
                         f"{_rate(b.rate)} | {_ratio(a, b)} | {why} |")  # fmt: skip
    warm = by_id.get("tiles-warm", {}).get("ours")
    if warm:
        lines.append(f"| tiles-warm | ours, cache hits | {_rate(warm.rate)} tiles/s | (no peer caches tiles) | | | "
                     "a cache hit rate, not a comparison |")  # fmt: skip
    return "\n".join(lines)


def scaling_table(results: list[ScenarioResult]) -> str:
    """Markdown: one row per configuration, the rate (and p99) of each scaling measurement."""
    parts = [r for r in results if r.id.startswith("scale-") and r.measurements]
    if not parts:
        return ""
    names = list(dict.fromkeys(m.server for r in parts for m in r.measurements))
    header = "| configuration | " + " | ".join(f"{r.id.removeprefix('scale-')} ({r.unit}, p99 ms)" for r in parts)
    lines = [header + " |", "|---|" + "---:|" * len(parts)]
    for name in names:
        cells = []
        for r in parts:
            m = next((m for m in r.measurements if m.server == name), None)
            cells.append(f"{_rate(m.rate)} ({m.p99_ms:,.1f})" if m else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_json(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1, default=str))
