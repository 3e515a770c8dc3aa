"""``huegis hotspots``: Gi*, emerging hot spots, forecasts and their backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import cli_actor, fail, with_connection
from geo.errors import HueGISError

hotspots_app = typer.Typer(help="Hot spots, emerging hot spots and forecasts of reports, with a backtest.",
                           no_args_is_help=True)  # fmt: skip


@hotspots_app.command("backtest")
def hotspots_backtest(
    events: Annotated[
        Path | None,
        typer.Option(
            help="CSV of events: id, created_at, category, lat, lon (default: Huế's citizen reports in the database)."
        ),
    ] = None,
    boundary: Annotated[
        Path | None,
        typer.Option(
            help="Study area (GeoJSON polygons; default: the events' convex hull, or Huế's land for the database)."
        ),
    ] = None,
    period: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    cell_m: Annotated[float, typer.Option("--cell-m", help="Hexagon edge in metres.")] = 250.0,
    tz: Annotated[str, typer.Option(help="IANA zone of CSV times without an offset (periods are cut in it).")] = "UTC",
    origins: Annotated[
        int | None,
        typer.Option(
            help="Scored origins: the most recent periods, each forecast from the periods before it and scored; "
            "nothing is chosen on them (default 56 days/52 weeks/12 months, fewer on short data)."
        ),
    ] = None,
    validation: Annotated[
        int | None,
        typer.Option(
            help="Validation origins just before the scored ones: every choice (bandwidths, half-lives, blend "
            "weights, the model) is made on them (default: as many as scored, fewer on short data)."
        ),
    ] = None,
    gbm: Annotated[
        bool, typer.Option("--gbm/--no-gbm", help="Include the gradient-boosting model (the slowest to fit).")
    ] = True,
    category: Annotated[list[str] | None, typer.Option("--category", help="Only these categories.")] = None,
    skip_bad_dates: Annotated[bool, typer.Option(help="Skip rows whose created_at does not parse.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the model and the bootstrap.")] = 0,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Run the models on this Dask cluster (tcp://host:8786; its workers need HueGIS installed)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Run the models on a local Dask cluster of this many worker processes."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Nested rolling-origin backtest of the forecast models and four naive baselines on a hexagon grid.

    Each origin period is forecast from the periods before it only.

    Validation origins come first: bandwidths, half-lives, blend weights and the model are chosen there.

    Scored origins follow and are only measured: hit rate, PAI and PEI at 1/5/10/20 % of the area per model.

    The chosen model's margin over the best naive baseline comes with a bootstrap interval (docs/hotspots.md).

    With --workers or --scheduler the models and runs of origins are computed on a Dask cluster: same report.
    """
    import json
    import math
    from contextlib import nullcontext

    from geo.analytics.backtest import run_backtest
    from geo.analytics.distributed import check_cluster, cluster, dask_map, local_map
    from geo.analytics.events import place_events, read_boundary, read_events_csv
    from geo.analytics.grid import categories_filter, check_period
    from geo.errors import InvalidInput

    distributed = scheduler is not None or workers is not None
    try:
        check_period(period)
        if not math.isfinite(cell_m) or cell_m <= 0:
            raise InvalidInput(f"--cell-m must be a positive number of metres, got {cell_m:g}")
        if distributed:
            check_cluster(scheduler, workers)
        area = read_boundary(boundary) if boundary else None
        if events is None:
            placed = _hue_events(category, area)
        else:
            raw = read_events_csv(events, tz=tz, skip_bad_dates=skip_bad_dates)
            if category:
                raw = raw.subset(categories_filter(raw.category, category), what=f"of categories {category}")
            placed = place_events(raw, boundary=area, boundary_name=str(boundary) if boundary else "boundary")
        typer.echo(f"backtesting {len(placed):,} events in EPSG:{placed.epsg} ...", err=True)
        with cluster(scheduler, workers) if distributed else nullcontext() as client:
            report = run_backtest(placed, period=period, cell_m=cell_m, origins=origins, validation=validation,
                                  seed=seed, gbm=gbm, run=dask_map(client) if client else local_map)  # fmt: skip
    except HueGISError as exc:
        raise fail(exc) from exc
    typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if as_json else report.table())


def _hue_events(category: list[str] | None, area):
    """Huế's reports from the database, in Huế's land (or ``area``), in Huế time."""
    from geo.analytics import hotspot_run
    from geo.analytics.events import place_events
    from geo.analytics.grid import categories_filter

    async def read(conn):
        raw, _ = await hotspot_run.read_report_events(conn)
        land = area if area is not None else await hotspot_run.read_study_area(conn)
        return raw, land

    raw, land = with_connection(read)
    if category:
        raw = raw.subset(categories_filter(raw.category, category), what=f"of categories {category}")
    return place_events(raw, boundary=land, boundary_name=hotspot_run.HUE_AREA_NAME if area is None else "boundary")


@hotspots_app.command("run")
def hotspots_run(
    period: Annotated[str, typer.Option(help="Forecast period: day, week or month.")] = "week",
    cell_m: Annotated[float, typer.Option("--cell-m", help="Hexagon edge in metres.")] = 250.0,
    category: Annotated[str | None, typer.Option(help="Only this report category.")] = None,
    origins: Annotated[
        int | None,
        typer.Option(
            help="Scored origins of the backtest (default 56 days/52 weeks/12 months); the published model is "
            "chosen on that many most recent periods, as the backtest chose on its validation origins."
        ),
    ] = None,
    validation: Annotated[
        int | None,
        typer.Option(help="Validation origins of the backtest, before the scored ones (default: as many)."),
    ] = None,
    ehsa_period: Annotated[str, typer.Option(help="Emerging hot-spot slice: day, week or month.")] = "month",
    ehsa_slices: Annotated[int, typer.Option(help="Emerging hot-spot slices.")] = 12,
) -> None:
    """Run Gi*, emerging hot spots, the backtest and the forecast on Huế's reports; publish the three layers.

    The forecast published is the model chosen on the most recent --origins periods (scored origins of the backtest).

    The backtest's report chooses on --validation origins before those and scores on them (docs/hotspots.md).
    """
    import asyncio
    import json

    from geo.analytics import hotspot_run
    from geo.settings import get_settings

    params = hotspot_run.RunParams(period=period, cell_m=cell_m, category=category, origins=origins,
                                   validation=validation, ehsa_period=ehsa_period, ehsa_slices=ehsa_slices)  # fmt: skip

    try:
        result = asyncio.run(hotspot_run.run_exclusively(get_settings().conninfo(), params, actor=cli_actor()))
    except HueGISError as exc:
        raise fail(exc) from exc
    typer.echo(json.dumps({k: result[k] for k in ("run_id", "rows", "chosen_model", "summary")}, indent=2))
