"""The project's own cluster follows the settings: HUEGIS_DB_PORT holds after initdb wrote another."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_server import free_port

from geo.cluster import LocalCluster
from geo.errors import ClusterError
from geo.settings import Settings


def test_the_port_setting_holds_after_initdb(tmp_path: Path) -> None:
    first, second = free_port(), free_port()
    at_first = LocalCluster(Settings(data_dir=tmp_path / "data", db_port=first))
    at_second = LocalCluster(Settings(data_dir=tmp_path / "data", db_port=second))
    try:
        at_first.start()  # initdb writes port = first into postgresql.conf
        assert at_first.running_port() == first
        at_first.stop()
        at_second.start()
        assert at_second.running_port() == second
        with pytest.raises(ClusterError, match=f"running on port {second}, not HUEGIS_DB_PORT={first}"):
            at_first.start()  # running elsewhere: said, not a connection refused later
    finally:
        at_second.stop()
