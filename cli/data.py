"""``huegis load``, ``huegis synth`` and ``huegis kpis`` (KPI layer, bottlenecks): the data the platform serves."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from cli.common import fail
from geo.errors import HueGISError
from geo.settings import get_settings


def load(
    only: Annotated[list[str] | None, typer.Option("--only", help="Load just these layer ids.")] = None,
    force: Annotated[bool, typer.Option(help="Reload even when the input has not changed.")] = False,
) -> None:
    """Load Huế's layers (shipped real data and seeded synthetic layers); unchanged inputs are skipped."""
    from layers.bulletins import load_bulletins
    from layers.loaders import load_layers

    try:
        results = load_layers(get_settings(), only=only, force=force)
        # The past storm warnings read storm_tracks: after the layers, whenever disaster_zones is wanted.
        bulletins = load_bulletins(get_settings(), force=force) if not only or "disaster_zones" in only else None
    except (HueGISError, KeyError) as exc:
        raise fail(exc) from exc
    for result in results:
        state = "loaded" if result.loaded else "unchanged"
        if result.kept_edits:
            state = f"kept: {result.kept_edits} staff edits since the last load (--force overwrites them)"
        typer.echo(f"{result.layer_id:22} {result.rows:>7} rows  {state}")
    if bulletins:
        state = f"{bulletins.messages} bulletins, loaded" if bulletins.loaded else "unchanged"
        typer.echo(f"{'past storm warnings':22} {bulletins.zones:>7} zones {state}")


kpis_app = typer.Typer(help="Report KPIs: the kpi_unit_month choropleth layer, the stored bottlenecks.",
                       no_args_is_help=True)  # fmt: skip


def hotspots_first_run() -> None:
    """Run the hot-spot analyses once when none exist, so their three layers are not empty."""
    import asyncio

    from cli.common import cli_actor
    from geo.analytics.hotspot_run import refresh_hotspots

    typer.echo("hot spots: computing the first run unless one exists (a few minutes, once) ...", err=True)
    try:
        result = asyncio.run(refresh_hotspots(get_settings().conninfo(), actor=cli_actor()))
    except HueGISError as exc:
        raise fail(exc) from exc
    if result is None:
        typer.echo("hot spots: a run exists or is being computed; `huegis hotspots run` computes a new one")
    else:
        typer.echo(f"hot spots: run {result['run_id']}: " + ", ".join(f"{k} {v}" for k, v in result["rows"].items()))


@kpis_app.command("refresh")
def kpis_refresh(
    touched: Annotated[
        bool,
        typer.Option(
            help="Only the unit-months written since they were computed, as the "
            "app's kpi-months job does (not the full rebuild)."
        ),
    ] = False,
) -> None:
    """Rebuild kpi_unit_month (one row per ward/commune and month) from the reports."""
    import asyncio

    import psycopg

    from geo.analytics.kpis import refresh_kpi_unit_month, refresh_touched_kpi_months

    conninfo = get_settings().conninfo()
    if touched:

        async def recompute() -> dict[str, int]:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                return await refresh_touched_kpi_months(conn)

        done = asyncio.run(recompute())
        typer.echo(f"kpi_unit_month: {done['unit_months']} unit-months of {done['months']} months recomputed")
        return
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = refresh_kpi_unit_month(conn)
    typer.echo(f"kpi_unit_month: {rows} unit-months")


@kpis_app.command("bottlenecks")
def kpis_bottlenecks() -> None:
    """Compute the stored bottleneck periods now, as the app's job does every HUEGIS_BOTTLENECK_INTERVAL_S."""
    import asyncio

    from geo.analytics.bottleneck_table import refresh_bottlenecks
    from geo.db import create_pool

    settings = get_settings()

    async def refresh() -> list[str]:
        async with create_pool(settings) as pool:
            return await refresh_bottlenecks(pool, months=settings.bottleneck_months,
                                             max_age_s=settings.bottleneck_max_age_s,
                                             statement_timeout_ms=settings.bottleneck_statement_timeout_ms)  # fmt: skip

    refreshed = asyncio.run(refresh())
    typer.echo(f"bottleneck_results: {', '.join(refreshed) or 'every period up to date'}")


synth_app = typer.Typer(help="Seeded synthetic data: the citizen-report history.", no_args_is_help=True)


@synth_app.command("reports")
def synth_reports(
    count: Annotated[int | None, typer.Option(help="Reports (default: HUEGIS_HISTORY_COUNT, 183000).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: HUEGIS_SEED).")] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Day after the last one (default: where the database's history ends; today for a new one).",
        ),
    ] = None,
    slow_unit: Annotated[
        list[str] | None, typer.Option("--slow-unit", help="Ward/commune or department code made slow (repeatable).")
    ] = None,
    slow_stage: Annotated[str | None, typer.Option(help="Where slow units dwell: assigned | in_progress.")] = None,
    slow_factor: Annotated[float | None, typer.Option(help="How many times longer they take there (4).")] = None,
    slow_since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Slow only for reports received from this day (default: always)."),
    ] = None,
    on_time_share: Annotated[float | None, typer.Option(help="2022 share resolved by the deadline (0.511).")] = None,
    on_time_trend: Annotated[float | None, typer.Option(help="Change of that share per year (0.03).")] = None,
    force: Annotated[bool, typer.Option(help="Reload even when nothing changed.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Generate and print the figures; leave the database alone.")] = False,
) -> None:
    """Generate the citizen-report history (2019 → --until) and load it: COPY, one transaction, synthetic rows only."""
    from layers.reports_history import build_history, describe, describe_kpis, history_params, load_history

    settings = get_settings()
    given = {"count": count, "seed": seed, "until": until.date() if until else None, "slow_stage": slow_stage,
             "slow_units": tuple(slow_unit) if slow_unit else None, "slow_factor": slow_factor,
             "slow_since": slow_since.date() if slow_since else None,
             "on_time_share": on_time_share, "on_time_trend": on_time_trend}  # fmt: skip
    try:
        params = history_params(settings, **{k: v for k, v in given.items() if v is not None})
        if dry_run:
            params.validate()
            typer.echo(describe_kpis(build_history(settings, params).manifest["kpis"]))
            return
        typer.echo(describe(load_history(settings, params, force=force)))
    except (HueGISError, ValueError) as exc:
        raise fail(exc) from exc


@synth_app.command("national")
def synth_national(
    reports: Annotated[int, typer.Option(min=1000, help="Reports over the 34 provinces, e.g. 2000000.")] = 2_000_000,
    events: Annotated[bool, typer.Option(help="Also the workflow events (~5.7 rows per report).")] = True,
    force: Annotated[bool, typer.Option(help="Reload even when nothing changed.")] = False,
) -> None:
    """A national-scale history for scaling measurements: Huế's generator per province (docs/scaling.md).

    Replaces the synthetic history (Huế's too) and adds translated copies of Huế's units per province.
    An interrupted load resumes after its last whole province when run again with the same options.
    """
    from tqdm import tqdm

    from layers.national import load_national

    with tqdm(total=reports, desc="Generating and loading", unit=" reports", unit_scale=True) as bar:

        def step(province: str, written: int) -> None:
            bar.set_postfix_str(province)
            bar.update(written)

        try:
            result = load_national(get_settings(), reports, events=events, force=force, progress=step)
        except HueGISError as exc:
            raise fail(exc) from exc
    if not result.loaded:
        typer.echo(f"national history unchanged ({result.reports:,} reports); --force reloads it")
        return
    resumed = f" (resumed: {result.resumed} provinces were loaded before)" if result.resumed else ""
    typer.echo(f"loaded {result.reports:,} reports and {result.events:,} events in {result.provinces} provinces "
               f"in {result.seconds:.0f} s{resumed}; run `huegis kpis refresh` for the KPI layer")  # fmt: skip
