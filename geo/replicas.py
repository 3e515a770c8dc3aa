"""Streaming replicas of the project-local cluster, for development and tests (``huegis db replica``).

Each replica is a ``pg_basebackup -R`` copy of the primary in its own data directory beside the
primary's (``replica-<n>``), on its own port (``replica_port_base + n - 1``), streaming the
primary's WAL as a hot standby. Like the primary, as root it runs as the ``postgres`` user.
Production replicas are PostgreSQL's own business: name them in ``HUEGIS_DB_REPLICA_URLS``.
"""

from __future__ import annotations

import shutil
from typing import Any

import psycopg

from geo.cluster import LocalCluster, _port_in_use
from geo.db import load_sql, parse_lsn
from geo.errors import ClusterError

# Appended to the copied postgresql.conf (the last setting wins): its own port and socket, and
# feedback to the primary so that vacuum there does not cancel long reads here.
REPLICA_CONF = """
# HueGIS local replica {number}
port = {port}
unix_socket_directories = '{socket_dir}'
hot_standby = on
hot_standby_feedback = on
"""


class LocalReplica(LocalCluster):
    """Replica ``number`` (from 1) of the project's local cluster: a cluster of its own, made by copying."""

    def __init__(self, primary: LocalCluster, number: int) -> None:
        if number < 1:
            raise ValueError(f"replicas are numbered from 1, got {number}")
        base = primary.settings.replica_port_base or primary.settings.db_port + 100
        super().__init__(primary.settings.model_copy(update={"db_port": base + number - 1}), primary.install)
        self.primary = primary
        self.number = number
        self.dir = primary.dir.parent / f"replica-{number}"
        self.log_file = primary.dir.parent / f"replica-{number}.log"

    @property
    def name(self) -> str:
        return f"local-{self.number}"

    @property
    def port(self) -> int:
        return self.settings.db_port

    @property
    def initialised(self) -> bool:
        return (self.dir / "PG_VERSION").exists() and (self.dir / "standby.signal").exists()

    def init(self) -> bool:
        """Copy the running primary with ``pg_basebackup -R`` (then it streams the WAL); False if made before."""
        if self.initialised:
            return False
        if not self.primary.running():
            raise ClusterError("the primary is not running: start it first (huegis db start)")
        shutil.rmtree(self.dir, ignore_errors=True)  # a half-made copy from an interrupted run
        # -R writes primary_conninfo (with the password: the local cluster authenticates by scram).
        source = self.primary.settings.conninfo(dbname="replication", application_name=self.name)
        self._run(self.install.tool("pg_basebackup"), "-d", source, "-D", str(self.dir), "-R", "-X", "stream",
                  "-c", "fast")  # fmt: skip
        with (self.dir / "postgresql.conf").open("a") as fh:
            fh.write(REPLICA_CONF.format(number=self.number, port=self.port, socket_dir=self.dir))
        return True

    def start(self) -> None:
        """Copy the primary if needed, start the replica, and wait until it accepts connections."""
        if not self.running() and _port_in_use(self.settings.db_host, self.port):
            raise ClusterError(
                f"port {self.port} is taken by another server; set HUEGIS_REPLICA_PORT_BASE to a free range"
            )
        super().start()

    def postmaster_pid(self) -> int | None:
        """The postmaster's process id while it runs (first line of ``postmaster.pid``)."""
        try:
            return int((self.dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def status(self) -> dict[str, Any]:
        """Port, data directory, postmaster pid, state and replay lag (seconds and bytes)."""
        running = self.running()
        found: dict[str, Any] = {
            "name": self.name,
            "port": self.port,
            "data_dir": str(self.dir),
            "log": str(self.log_file),
            "initialised": self.initialised,
            "running": running,
            "pid": self.postmaster_pid() if running else None,
            "state": "stopped" if self.initialised else "not created",
            "replay_lsn": None,
            "lag_s": None,
            "lag_bytes": None,
        }
        if not running:
            return found
        try:
            with psycopg.connect(self.settings.conninfo(), autocommit=True) as conn:
                row = conn.execute(load_sql("replicas/standby_status")).fetchone()
            with psycopg.connect(self.primary.settings.conninfo(), autocommit=True) as conn:
                head = conn.execute(load_sql("replicas/primary_position")).fetchone()
        except psycopg.Error as exc:
            return {**found, "state": f"unreachable: {exc}".strip()}
        assert row is not None
        standby, receiver, replay, lag_s = row
        state = (receiver or "not receiving") if standby else "not a standby (promoted)"
        lag_bytes = max(0, parse_lsn(head[0]) - parse_lsn(replay)) if head and replay else None
        return {**found, "state": state, "replay_lsn": replay, "lag_s": lag_s, "lag_bytes": lag_bytes}


def local_replicas(primary: LocalCluster, count: int | None = None) -> list[LocalReplica]:
    """Replicas 1..count (default: the configured number, and any made before)."""
    if count is None:
        made = [int(p.name.split("-", 1)[1]) for p in primary.dir.parent.glob("replica-*")
                if p.is_dir() and p.name.split("-", 1)[1].isdigit()]  # fmt: skip
        count = max([primary.settings.local_replicas, *made])
    return [LocalReplica(primary, n) for n in range(1, count + 1)]
