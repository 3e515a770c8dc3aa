"""Backups: `huegis db backup` / `restore` round-trip the test database exactly; bad input exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from geo import cluster
from geo.backup import Summary, backup, connect, sequence_values, table_fingerprints
from geo.settings import PROJECT_DIR, Settings


def huegis(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI against the test database, as an operator would."""
    cli = Path(sys.executable).with_name("huegis")
    environ = {**os.environ, "HUEGIS_DB_NAME": settings.db_name, **env}
    return subprocess.run([str(cli), *args], env=environ, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def dump(loaded: Settings, tmp_path_factory: pytest.TempPathFactory) -> Summary:
    """The loaded test database backed up, with fingerprints taken in the dump's own snapshot."""
    return backup(loaded, tmp_path_factory.mktemp("backup") / "huegis.dump", fingerprints=True)


@pytest.fixture(scope="module")
def copy_name(loaded: Settings) -> Iterator[str]:
    """Name of a database restored from the dump; dropped afterwards."""
    name = f"{loaded.db_name}_restored"
    yield name
    cluster.drop_database(loaded, name)


def test_round_trip_is_identical(loaded: Settings, dump: Summary, copy_name: str) -> None:
    done = huegis(loaded, "db", "restore", str(dump.file), "--into", copy_name)
    assert done.returncode == 0, done.stderr
    assert f"into database {copy_name}" in done.stdout
    assert f"{dump.tables} tables, {dump.total_rows:,} rows" in done.stdout

    with connect(loaded) as source, connect(loaded, dbname=copy_name) as copy:
        restored = table_fingerprints(copy)
        assert dump.tables > 20 and dump.total_rows > 3000
        assert restored == dump.fingerprints  # every table: same rows, same checksum
        assert sequence_values(copy) == sequence_values(source)
        heads = "SELECT version_num FROM alembic_version ORDER BY 1"
        assert copy.execute(heads).fetchall() == source.execute(heads).fetchall() != []
        assert copy.execute("SELECT postgis_lib_version()").fetchone() is not None
        columns = "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns ORDER BY 1, 2"
        assert copy.execute(columns).fetchall() == source.execute(columns).fetchall()
        # Geometry survives bit for bit (the checksums compare it as EWKB), and indexes are back.
        indexes = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"
        assert copy.execute(indexes).fetchone() == source.execute(indexes).fetchone()
    print(f"\nbackup round trip: {dump.tables} tables, {dump.total_rows:,} rows, {dump.size_bytes:,} bytes: identical")


def test_fingerprint_sees_a_changed_row(loaded: Settings, copy_name: str, dump: Summary) -> None:
    with connect(loaded, dbname=copy_name, autocommit=True) as copy:
        before = table_fingerprints(copy)["public.admin_units"]
        nudge = (
            "UPDATE admin_units SET geom = ST_Translate(geom, 1e-9, 0) WHERE code = (SELECT min(code) FROM admin_units)"
        )
        copy.execute(nudge)  # a ward boundary moved by a nanodegree
        after = table_fingerprints(copy)["public.admin_units"]
    assert after.rows == before.rows and after.md5 != before.md5


def test_refuses_a_database_that_is_not_empty(loaded: Settings, dump: Summary, copy_name: str) -> None:
    done = huegis(loaded, "db", "restore", str(dump.file))  # into the loaded test database itself
    assert done.returncode == 2
    assert "is not empty" in done.stderr and "--clean" in done.stderr
    assert "Traceback" not in done.stderr


def test_clean_replaces_a_database(loaded: Settings, dump: Summary, copy_name: str) -> None:
    done = huegis(loaded, "db", "restore", str(dump.file), "--into", copy_name, "--clean")
    assert done.returncode == 0, done.stderr
    with connect(loaded, dbname=copy_name) as copy:
        assert table_fingerprints(copy) == dump.fingerprints


def test_backup_cli_verifies_its_dump(loaded: Settings, tmp_path: Path) -> None:
    file = tmp_path / "nightly.dump"
    done = huegis(loaded, "db", "backup", str(file), "--verify")
    assert done.returncode == 0, done.stderr
    assert f"wrote {file}" in done.stdout and "tables" in done.stdout and "rows" in done.stdout
    assert "verified" in done.stdout
    assert file.read_bytes()[:5] == b"PGDMP"
    assert not file.with_name("nightly.dump.partial").exists()
    with psycopg.connect(loaded.conninfo(dbname="postgres")) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{loaded.db_name}_verify_%",))
        assert left.fetchall() == []  # the scratch database is gone


def test_missing_file(loaded: Settings, tmp_path: Path) -> None:
    done = huegis(loaded, "db", "restore", str(tmp_path / "nope.dump"), "--into", "huegis_never_made")
    assert done.returncode == 2
    assert "no backup file" in done.stderr and "Traceback" not in done.stderr


def test_garbage_file(loaded: Settings, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.dump"
    garbage.write_bytes(b"this is a photo of a pothole, not a backup\n" * 100)
    done = huegis(loaded, "db", "restore", str(garbage), "--into", "huegis_never_made")
    assert done.returncode == 2
    assert "not a pg_dump custom-format backup" in done.stderr and "Traceback" not in done.stderr


def test_truncated_dump(loaded: Settings, dump: Summary, tmp_path: Path) -> None:
    cut = tmp_path / "cut.dump"
    cut.write_bytes(dump.file.read_bytes()[:2000])
    name = f"{loaded.db_name}_cut"
    try:
        done = huegis(loaded, "db", "restore", str(cut), "--into", name)
        assert done.returncode == 2
        assert "error:" in done.stderr and "Traceback" not in done.stderr
    finally:
        cluster.drop_database(loaded, name)


def test_unreachable_database(loaded: Settings, tmp_path: Path) -> None:
    port = "1"  # nothing listens there
    done = huegis(loaded, "db", "backup", str(tmp_path / "x.dump"), HUEGIS_DB_PORT=port, DATABASE_URL="")
    assert done.returncode == 2
    assert "cannot connect" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.dump").exists()
