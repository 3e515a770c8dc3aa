"""The national-scale history (layers/national.py): 34 provinces, and a load that resumes where it stopped.

A database of its own in the test cluster: the load replaces the synthetic history, which the
shared test database's other tests rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from alembic import command

from geo import cluster
from geo.schema import alembic_config
from geo.settings import Settings
from layers.loaders import load_layers
from layers.national import load_national, read_provinces, shares


class Interrupted(Exception):
    """Stands for a load stopped part-way (Ctrl-C, a killed process, a lost connection)."""


@pytest.fixture(scope="module")
def national(settings: Settings) -> Iterator[Settings]:
    """An empty database with the schema, the catalogue and Huế's admin units."""
    own = Settings(db_name=f"{settings.db_name}_national", pygeoapi_openapi_file=settings.pygeoapi_openapi)
    cluster.ensure_database(own)
    command.upgrade(alembic_config(own.sqlalchemy_url()), "heads")
    load_layers(own, only=["admin_units"])
    yield own
    cluster.drop_database(settings, own.db_name)


def counts(settings: Settings) -> tuple[int, int, int]:
    """Reports, distinct report codes, province copies of the units."""
    with psycopg.connect(settings.conninfo()) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT code), (SELECT count(DISTINCT left(code, 1)) FROM admin_units "
            "WHERE code !~ '^[0-9]+$') FROM citizen_reports"
        ).fetchone()
    assert row is not None
    return row


def stop_after(n: int) -> Callable[[str, int], None]:
    """A progress callback that interrupts the load once ``n`` provinces are committed."""
    seen: list[str] = []

    def step(province: str, written: int) -> None:
        seen.append(province)
        if len(seen) == n:
            raise Interrupted

    return step


def test_an_interrupted_load_resumes_after_its_last_whole_province(national: Settings) -> None:
    provinces = read_provinces()
    assert len(provinces) == 34
    with pytest.raises(Interrupted):
        load_national(national, 2000, events=False, progress=stop_after(3))
    assert counts(national)[0] == sum(shares(provinces, 2000)[:3])  # three provinces, committed whole

    again: list[str] = []
    result = load_national(national, 2000, events=False, progress=lambda name, n: again.append(name))
    assert result.loaded and result.resumed == 3 and result.reports == 2000
    assert again == [p.name for p in provinces]  # the finished ones are reported as done, not redone
    assert counts(national) == (2000, 2000, 33)  # nothing twice; every province but Huế has its copy
    with psycopg.connect(national.conninfo()) as conn:  # the low-zoom tiles' counts rebuilt after the load
        cells = "SELECT sum(reports) FILTER (WHERE zoom = 17), sum(reports) FILTER (WHERE zoom = 14) FROM report_cells"
        assert conn.execute(cells).fetchone() == (2000, 2000)
        assert conn.execute("SELECT count(*) FROM report_cells_dirty").fetchone() == (0,)
    assert not load_national(national, 2000, events=False).loaded  # complete: unchanged


def test_other_input_starts_over(national: Settings) -> None:
    with pytest.raises(Interrupted):
        load_national(national, 3000, events=False, progress=stop_after(2))
    assert counts(national)[0] == sum(shares(read_provinces(), 3000)[:2])  # not on top of the old load
    # (Finishing it would repeat the first test's resume: 32 more provinces of suite time.)
