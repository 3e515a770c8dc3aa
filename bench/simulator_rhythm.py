"""The simulator's catch-up against the history's rhythm: a city whose generated history ended ``--days`` ago,
caught up to now by ``layers.simulator``, in a scratch database of the local cluster (dropped afterwards).

    .venv/bin/python bench/simulator_rhythm.py --count 20000 --days 10

Prints, for the history's last days and for the catch-up: resolutions, assignments and closings a day, the
busiest hour of staff steps, staff steps outside office hours, and the history's reports open now.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from alembic import command
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo import cluster
from geo.schema import alembic_config
from geo.settings import Settings
from geo.times import TZ
from layers.loaders import load_layers
from layers.reports_history import history_end, history_params, load_history
from layers.simulator import Simulator

RHYTHM = (Path(__file__).with_name("sql") / "catch_up_rhythm.sql").read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="reports in the generated history")
    parser.add_argument("--days", type=int, default=10, help="the history ended this many days ago")
    args = parser.parse_args()
    until = datetime.now(TZ).date() - timedelta(days=args.days)
    city = Settings(db_name="huegis_bench_rhythm", history_count=args.count, history_until=until)
    cluster.ensure_database(city)
    try:
        command.upgrade(alembic_config(city.sqlalchemy_url()), "heads")
        load_layers(city, only=["admin_units"])
        load_history(city, history_params(city), progress=False)
        end, now = history_end(until), datetime.now(TZ).replace(microsecond=0)

        async def catch_up() -> dict[str, int]:
            async with await AsyncConnection.connect(city.conninfo(), autocommit=True) as conn:
                return await Simulator(city).advance(conn, until=now)

        started = time.monotonic()
        done = asyncio.run(catch_up())
        print(f"caught up {args.days} days in {time.monotonic() - started:.0f} s: {done}")
        spans = {"history's last days": (end - (now - end), end), "catch-up": (end, now)}
        with psycopg.connect(city.conninfo(), autocommit=True, row_factory=dict_row) as db:
            for name, (a, b) in spans.items():
                span = {"a": a, "b": b, "days": (b - a).total_seconds() / 86400, "end": end}
                row = db.execute(RHYTHM, span).fetchone()
                print(f"{name:20}", ", ".join(f"{k} {v}" for k, v in (row or {}).items()))
    finally:
        cluster.drop_database(Settings(), city.db_name)


if __name__ == "__main__":
    main()
