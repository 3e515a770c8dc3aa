"""One hot-spot run over Huế's citizen reports: Gi* now, emerging hot spots, backtest, forecast, published as layers.

The computation (:func:`compute_run`) is pure Python over an :class:`EventSet`, the same code the
``huegis hotspots backtest`` command runs on any city's CSV; the database parts only read the
reports and the study area and write the three layers (``hotspot_cells``, ``emerging_hotspots``,
``forecast_cells``) and the ``hotspot_runs`` row in one transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geo import audit
from geo.analytics.backtest import BacktestReport, run_backtest
from geo.analytics.emerging import MIN_SLICES, emerging_hotspots
from geo.analytics.events import EventSet, RawEvents, place_events
from geo.analytics.forecast import HORIZONS, build_space_time, forecast_next
from geo.analytics.grid import PERIODS, HexGrid, build_grid, check_period
from geo.analytics.hotspots import CLASS_LABELS, DEFAULT_PERMUTATIONS, gi_star
from geo.audit import Actor
from geo.db import fetch_one, load_sql
from geo.errors import Conflict, InvalidInput, NotFound
from geo.models import Base

HUE_TZ = "Asia/Ho_Chi_Minh"
HUE_AREA_NAME = "Huế land (city polygon less sea and lagoons)"
FORECAST_PUBLISHED_SHARE = 0.2  # forecast cells published: the top 20 % of the area
SOURCE = "HueGIS hot-spot run {run} over citizen_reports"
COMPUTING_RETRY_S = 60  # a client asking while the first run is computed is told to come back after this
# Hexagon edges in metres: below 10 m the grid is absurdly fine, above 20 km one cell holds the city.
CELL_M_RANGE = (10.0, 20_000.0)


@dataclass(frozen=True)
class RunParams:
    """What one run computes.

    Attributes
    ----------
    period : {'day', 'week', 'month'}
        Forecast period and the unit of the Gi* window.
    cell_m : float
        Hexagon edge in metres.
    category : str, optional
        Only reports of this category (default: all).
    window : int, optional
        Periods summed for "hot spots now" (default: 28 days, 13 weeks or 6 months).
    ehsa_period : {'day', 'week', 'month'}
        Length of an emerging-hot-spot time slice.
    ehsa_slices : int
        Number of slices (the most recent complete ones; at least 3).
    origins : int, optional
        Scored origins of the backtest (default 56 days, 52 weeks or 12 months); the published
        model is chosen on that many most recent origins, as the backtest chose on its validation ones.
    validation : int, optional
        Validation origins of the backtest before the scored ones (default: as many).
    rings : int
        Gi* neighbourhood: hexagons within this many rings.
    permutations : int
        Permutations of the Gi* "now" test (emerging slices use the normal approximation).
    seed : int
        Seed of permutations and models.
    """

    period: str = "week"
    cell_m: float = 250.0
    category: str | None = None
    window: int | None = None
    ehsa_period: str = "month"
    ehsa_slices: int = 12
    origins: int | None = None
    validation: int | None = None
    rings: int = 1
    permutations: int = DEFAULT_PERMUTATIONS
    seed: int = 0

    def validate(self) -> None:
        """InvalidInput naming the first bad value."""
        check_period(self.period)
        if self.ehsa_period not in PERIODS:
            raise InvalidInput(f"ehsa_period must be one of {', '.join(PERIODS)}, got {self.ehsa_period!r}")
        check_cell_m(self.cell_m)
        if self.window is not None and self.window < 1:
            raise InvalidInput(f"window must be at least 1 period, got {self.window}")
        if self.ehsa_slices < MIN_SLICES:
            raise InvalidInput(f"ehsa_slices must be at least {MIN_SLICES}, got {self.ehsa_slices}")
        for name in ("origins", "validation"):
            value = getattr(self, name)
            if value is not None and value < 4:
                raise InvalidInput(f"{name} must be at least 4, got {value}")
        if not 1 <= self.rings <= 5:
            raise InvalidInput(f"rings must be between 1 and 5, got {self.rings}")
        if self.permutations != 0 and self.permutations < 99:
            raise InvalidInput(f"permutations must be 0 or at least 99, got {self.permutations}")


# The city's own run: `huegis setup --hotspots now`, the app's first run after it starts and the simulator's
# weekly one. The API's analyses at Huế's scale, with a lighter backtest (4 origins); 9,999 permutations
# (with 999 no cell passes the FDR).
CITY_RUN = RunParams(period="week", cell_m=250.0, origins=4)


def check_cell_m(cell_m: float) -> None:
    """InvalidInput unless the hexagon edge is within CELL_M_RANGE metres (a huge one overflows the grid indices)."""
    low, high = CELL_M_RANGE
    if not (isinstance(cell_m, int | float) and math.isfinite(cell_m) and low <= cell_m <= high):
        raise InvalidInput(f"cell_m (hexagon edge) must be between {low:g} and {high:g} metres, got {cell_m}")


@dataclass
class RunResult:
    """Everything a run publishes (cell tables in EPSG:4326) and its backtest."""

    params: RunParams
    study: dict[str, Any]
    backtest: BacktestReport
    chosen_model: str
    hotspots: pd.DataFrame
    emerging: pd.DataFrame
    forecast: pd.DataFrame
    synthetic: bool = False
    summary: dict[str, Any] = field(default_factory=dict)


def compute_run(events: EventSet, params: RunParams) -> RunResult:
    """Gi* hot spots now, emerging hot spots, the backtest and the next period's forecast for ``events``.

    Parameters
    ----------
    events : EventSet
        Events in a metric CRS (UTM metres) with their study area.
    params : RunParams
        Period, cell size (m), windows, slices, origins, seed.

    Returns
    -------
    RunResult
        Cell tables (geometry in EPSG:4326) ready to publish and the backtest report.
    """
    params.validate()
    period = check_period(params.period)
    h = HORIZONS[period]
    grid = build_grid(events.area, params.cell_m, events.epsg)
    data = build_space_time(events, grid, period, max_periods=h.max_history)
    window = params.window or h.mid
    if data.n_periods < window:
        raise InvalidInput(f"the reports cover {data.n_periods} complete {period}s; the hot-spot window needs {window}")
    weights = grid.weights(params.rings)
    polygons = grid.polygons_wgs84()

    recent = data.counts[:, -window:].sum(axis=1)
    gi = gi_star(recent, weights, permutations=params.permutations, seed=params.seed)
    keep = (recent > 0) | (gi.gi_class != 0)
    window_start, window_end = data.axis.start_of(data.n_periods - window), data.axis.end_of(data.n_periods - 1)
    hotspots = _cells(grid, polygons, keep, period=period).assign(
        window_start=window_start.date(),
        window_end=window_end.date(),
        events=recent[keep].astype(int),
        gi_z=gi.z[keep],
        p_value=gi.p_value[keep],
        gi_class=gi.gi_class[keep],
        label=[CLASS_LABELS[int(c)] for c in gi.gi_class[keep]],
    )

    slices = build_space_time(events, grid, check_period(params.ehsa_period), max_periods=params.ehsa_slices)
    if slices.n_periods < MIN_SLICES:
        raise InvalidInput(
            f"emerging hot spots need at least {MIN_SLICES} complete {params.ehsa_period}s of reports; "
            f"there are {slices.n_periods}"
        )
    ehsa = emerging_hotspots(slices.counts, weights, seed=params.seed)
    keep = (ehsa["category"] != "no_pattern").to_numpy()
    emerging = _cells(grid, polygons, keep, period=params.ehsa_period).assign(
        slices=slices.n_periods,
        first_slice=slices.axis.start_of(0).date(),
        last_slice=slices.axis.start_of(slices.n_periods - 1).date(),
        pattern=ehsa["category"].to_numpy()[keep],
        events=ehsa["total"].to_numpy()[keep].astype(int),
        hot_slices=ehsa["hot_slices"].to_numpy()[keep],
        cold_slices=ehsa["cold_slices"].to_numpy()[keep],
        final_z=ehsa["final_z"].to_numpy()[keep],
        trend_tau=ehsa["trend_tau"].to_numpy()[keep],
        trend_p=ehsa["trend_p"].to_numpy()[keep],
    )

    report = run_backtest(events, period=period, cell_m=params.cell_m, origins=params.origins,
                          validation=params.validation, seed=params.seed)  # fmt: skip
    # Chosen on the most recent window as long as the backtest's scored one: see backtest.BacktestReport.publish.
    assert report.published_model is not None
    expected = forecast_next(data, report.published_model)
    forecast = forecast_cells(
        grid,
        polygons,
        expected,
        period=period,
        model=report.publish["model"],
        start=data.axis.start_of(data.n_periods),
        end=data.axis.end_of(data.n_periods),
    )
    summary = {
        "hot_cells": int((gi.gi_class > 0).sum()),
        "cold_cells": int((gi.gi_class < 0).sum()),
        "patterns": {k: int(v) for k, v in ehsa["category"].value_counts().items() if k != "no_pattern"},
        "forecast_period": {
            "start": data.axis.start_of(data.n_periods).date().isoformat(),
            "end": data.axis.end_of(data.n_periods).date().isoformat(),
        },
        "forecast_expected_total": float(expected.sum()),
    }
    return RunResult(
        params=params,
        study=report.study,
        backtest=report,
        chosen_model=report.publish["model"],
        hotspots=hotspots,
        emerging=emerging,
        forecast=forecast,
        summary=summary,
    )


def _cells(grid: HexGrid, polygons: NDArray[np.object_], keep: NDArray[np.bool_], *, period: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cell_i": grid.i[keep],
            "cell_j": grid.j[keep],
            "cell_m": grid.cell_m,
            "period": period,
            "geom": polygons[keep],
        }
    )


def forecast_cells(
    grid: HexGrid,
    polygons: NDArray[np.object_],
    expected: NDArray[np.float64],
    *,
    period: str,
    model: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    share: float = FORECAST_PUBLISHED_SHARE,
) -> pd.DataFrame:
    """The cells of the top ``share`` of the area by expected count (rank 1 = highest), none expecting nothing."""
    order = np.argsort(-expected, kind="stable")
    rank = np.empty(grid.n, dtype=np.int64)
    rank[order] = np.arange(1, grid.n + 1)
    top_share = rank / grid.n
    keep = (top_share <= share) & (expected > 1e-6)
    return _cells(grid, polygons, keep, period=period).assign(
        period_start=start.date(),
        period_end=end.date(),
        model=model,
        expected=expected[keep],
        rank=rank[keep],
        top_share=top_share[keep],
    )


# --- database ------------------------------------------------------------------------------


async def read_report_events(
    conn: AsyncConnection, *, category: str | None = None, until: datetime | None = None
) -> tuple[RawEvents, bool]:
    """Huế's citizen reports as raw events (EPSG:4326, UTC) and whether any of them is synthetic."""
    if category is not None:
        async with conn.cursor() as cur:
            await cur.execute("SELECT 1 FROM report_categories WHERE code = %s", (category,))
            if await cur.fetchone() is None:
                raise NotFound(f"no report category {category!r}")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("hotspots/report_events"), {"category": category, "until": until})
        rows = await cur.fetchall()
    if not rows:
        raise InvalidInput("there are no citizen reports" + (f" of category {category!r}" if category else ""))
    frame = pd.DataFrame(rows)
    times = pd.DatetimeIndex(pd.to_datetime(frame["created_at"], utc=True))
    raw = RawEvents(
        ids=frame["id"].to_numpy(dtype=object),
        times=times,
        category=frame["category"].to_numpy(dtype=object),
        lon=frame["lon"].to_numpy(float),
        lat=frame["lat"].to_numpy(float),
        tz=HUE_TZ,
        source="citizen_reports",
        counts={"rows": len(frame), "read": len(frame)},
    )
    return raw, bool(frame["synthetic"].any())


async def read_study_area(conn: AsyncConnection) -> Any:
    """Huế's land (EPSG:4326): the city polygon less the sea and the lagoons."""
    async with conn.cursor() as cur:
        await cur.execute(load_sql("hotspots/study_area"))
        row = await cur.fetchone()
    if row is None or row[0] is None:
        raise NotFound("the city polygon is not loaded (admin_units level 'city'): run `huegis load`")
    return shapely.from_wkb(bytes(row[0]))


async def hue_events(conn: AsyncConnection, *, category: str | None = None) -> tuple[EventSet, bool]:
    """Huế's reports placed in the city's land in UTM 48N (the zone of their centroid)."""
    raw, synthetic = await read_report_events(conn, category=category)
    area = await read_study_area(conn)
    return place_events(raw, boundary=area, boundary_name=HUE_AREA_NAME), synthetic


COMMON_COLUMNS = ("run_id", "source", "synthetic", "cell_m", "cell_i", "cell_j", "period", "report_category")


def layer_columns(table: str) -> tuple[str, ...]:
    """A result layer's own columns, read from its model (so the writer cannot drift from the schema)."""
    skip = {"id", "updated_at", "geom", *COMMON_COLUMNS}
    return tuple(c.name for c in Base.metadata.tables[table].columns if c.name not in skip)


async def store_run(conn: AsyncConnection, result: RunResult, *, actor: Actor) -> dict[str, Any]:
    """Write the run row, replace the three layers' rows with this run's and audit it, in one transaction."""
    p = result.params
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            load_sql("hotspots/run_insert"),
            {
                "actor": actor.role,  # published with the run: the role; audit_log names the person
                "period": p.period,
                "cell_m": p.cell_m,
                "report_category": p.category,
                "params": Jsonb(asdict(p)),
                "study": Jsonb(_json(result.study)),
                "backtest": Jsonb(result.backtest.to_dict()),
                "chosen_model": result.chosen_model,
            },
        )
        run = await cur.fetchone()
        assert run is not None
        run_id = run["id"]
        written = {}
        for table, frame in (
            ("hotspot_cells", result.hotspots),
            ("emerging_hotspots", result.emerging),
            ("forecast_cells", result.forecast),
        ):
            await cur.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            written[table] = await _copy(
                cur, table, frame, run_id=run_id, synthetic=result.synthetic, category=p.category
            )
        await audit.record(conn, actor=actor, action="hotspot_run", object_type="hotspot_run", object_id=run_id,
                           details={"params": asdict(p), "rows": written})  # fmt: skip
    return {"run_id": run_id, "created_at": run["created_at"].isoformat(), "rows": written}


async def _copy(
    cur: Any, table: str, frame: pd.DataFrame, *, run_id: int, synthetic: bool, category: str | None
) -> int:
    own = layer_columns(table)
    columns = (*COMMON_COLUMNS, *own)
    names = sql.SQL(", ").join(sql.Identifier(c) for c in (*columns, "geom"))
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
    source = SOURCE.format(run=run_id)
    # One MultiPolygon per hexagon (``indices``: without it shapely would build a single one of all).
    parts = frame["geom"].to_numpy()
    geoms = shapely.set_srid(shapely.multipolygons(parts, indices=np.arange(len(parts))), 4326)
    wkb = shapely.to_wkb(geoms, hex=True, include_srid=True) if len(parts) else []
    async with cur.copy(copy) as out:
        for k, row in enumerate(frame.itertuples(index=False)):
            values = [run_id, source, synthetic, row.cell_m, int(row.cell_i), int(row.cell_j), row.period, category]
            values += [_plain(getattr(row, c)) for c in own]
            await out.write_row([*values, wkb[k]])
    return len(frame)


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, date | datetime) else str(v)))


async def run_hotspots(conn: AsyncConnection, params: RunParams, *, actor: Actor) -> dict[str, Any]:
    """Read the reports, compute every analysis (in a worker thread) and publish them; the run's summary."""
    import asyncio

    params.validate()
    events, synthetic = await hue_events(conn, category=params.category)
    result = await asyncio.to_thread(compute_run, events, params)
    result.synthetic = synthetic
    stored = await store_run(conn, result, actor=actor)
    return {
        **stored,
        "chosen_model": result.chosen_model,
        "summary": result.summary,
        "backtest": result.backtest.to_dict(),
    }


@asynccontextmanager
async def run_lock(conninfo: str) -> AsyncIterator[AsyncConnection | None]:
    """A connection of its own holding the hot-spot run lock for the block; None when another session holds it.

    Every process on the database sees the lock (:func:`run_state`): app workers, hosts, the CLI. It goes
    with the connection, so a run that dies leaves no lock behind.
    """
    async with await AsyncConnection.connect(conninfo, autocommit=True, application_name="huegis:hotspot-run") as conn:
        lock = await fetch_one(conn, "hotspots/run_lock", missing="no answer from the database")
        yield conn if lock["taken"] else None


async def run_exclusively(conninfo: str, params: RunParams, *, actor: Actor) -> dict[str, Any]:
    """:func:`run_hotspots` under the run lock; Conflict when another session is computing a run."""
    params.validate()
    async with run_lock(conninfo) as conn:
        if conn is None:
            raise Conflict("a hot-spot run is already in progress; try again when it has finished")
        return await run_hotspots(conn, params, actor=actor)


async def refresh_hotspots(
    conninfo: str, *, params: RunParams = CITY_RUN, max_age: timedelta | None = None, actor: Actor
) -> dict[str, Any] | None:
    """Run the analyses when there is no run yet (or the latest is older than ``max_age``) and no session is
    computing one; None when nothing was run."""
    async with run_lock(conninfo) as conn:
        if conn is None:
            return None
        latest = (await run_state(conn))["created_at"]
        if latest is not None and (max_age is None or datetime.now(UTC) - latest < max_age):
            return None
        return await run_hotspots(conn, params, actor=actor)


async def run_state(conn: AsyncConnection) -> dict[str, Any]:
    """``latest_run`` and its ``created_at`` (None: no run yet), and whether a session is ``computing`` one now.

    Ask the primary: a replica sees the runs but not the lock.
    """
    return await fetch_one(conn, "hotspots/run_state", missing="no answer from the database")


def state_of(row: dict[str, Any]) -> Literal["ready", "computing", "none"]:
    """What a :func:`run_state` row means to a reader: a run to show, the first one under way, or none."""
    return "ready" if row["latest_run"] is not None else "computing" if row["computing"] else "none"


async def get_run(conn: AsyncConnection, run_id: int | None = None) -> dict[str, Any]:
    """A run (the latest when ``run_id`` is None) with its report and published row counts; NotFound otherwise."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("hotspots/run_get"), {"id": run_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound("no hot-spot run yet: POST /api/hotspots/run" if run_id is None else f"no hot-spot run {run_id}")
    row["created_at"] = row["created_at"].isoformat()
    return row


async def features(conn: AsyncConnection, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection from one of the ``hotspots/*_geojson`` queries over the latest run."""
    run = await get_run(conn, params.pop("run_id", None))
    async with conn.cursor() as cur:
        await cur.execute(load_sql(f"hotspots/{name}_geojson"), {**params, "run_id": run["id"]})
        rows = await cur.fetchall()
    return {"type": "FeatureCollection", "run_id": run["id"], "features": [r[0] for r in rows]}


MAX_GRID_ROWS = 50_000


async def grid_counts(
    conn: AsyncConnection,
    *,
    start: datetime,
    end: datetime,
    period: str = "week",
    cell_m: float = 250.0,
    category: str | None = None,
) -> dict[str, Any]:
    """Reports per ``ST_HexagonGrid`` hexagon (edge ``cell_m`` m in UTM 48N) and period, as GeoJSON.

    Parameters
    ----------
    start, end : datetime
        Reports received in ``[start, end)`` (time-zone aware).
    period : {'day', 'week', 'month'}
        Periods cut in Huế time (weeks start on Monday).
    cell_m : float
        Hexagon edge in metres (≥ 10).
    category : str, optional
        Only this report category.
    """
    check_period(period)
    check_cell_m(cell_m)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start and end must carry a time zone offset")
    if end <= start:
        raise InvalidInput(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    params = {
        "start": start,
        "end": end,
        "period": period,
        "cell_m": cell_m,
        "category": category,
        "srid": 32648,
        "limit": MAX_GRID_ROWS + 1,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql("hotspots/grid_counts"), params)
        rows = await cur.fetchall()
    if len(rows) > MAX_GRID_ROWS:
        raise InvalidInput(f"more than {MAX_GRID_ROWS:,} cell-periods: shorten the range or use larger cells")
    features = [
        {
            "type": "Feature",
            "geometry": r.pop("geometry"),
            "properties": {**r, "period_start": r["period_start"].isoformat()},
        }
        for r in rows
    ]
    return {
        "type": "FeatureCollection",
        "period": period,
        "cell_m": cell_m,
        "crs_of_grid": "EPSG:32648",
        "features": features,
    }
