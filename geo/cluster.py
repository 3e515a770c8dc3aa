"""Lifecycle of the project-local PostGIS cluster (initdb, start, stop, status, reset).

Uses the machine's PostgreSQL binaries (``/usr/lib/postgresql/<major>/bin``, newest major that
has PostGIS). ``initdb`` refuses to run as root, so as root every server command runs as the
``postgres`` user, which then owns the data directory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from geo.errors import ClusterError
from geo.settings import Settings

PG_ROOT = Path("/usr/lib/postgresql")
SHARE_ROOT = Path("/usr/share/postgresql")
SERVER_USER = "postgres"
PG_CONF = """
# HueGIS local cluster
listen_addresses = '{host}'
port = {port}
unix_socket_directories = '{socket_dir}'
max_connections = 100
shared_buffers = 256MB
work_mem = 16MB
# Tile and feature queries are short: JIT compilation and parallel workers cost more than they
# save on them (measured: 60-70 ms of JIT on a z12 tile).
jit = off
max_parallel_workers_per_gather = 0
logging_collector = off
"""


@dataclass(frozen=True)
class PostgresInstall:
    """One installed PostgreSQL major version with PostGIS."""

    major: int
    bindir: Path

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def find_postgres() -> PostgresInstall:
    """Return the newest installed PostgreSQL that has PostGIS, or explain what to install."""
    majors = sorted(
        (int(p.name) for p in PG_ROOT.glob("*") if p.name.isdigit() and (p / "bin" / "initdb").exists()),
        reverse=True,
    )
    if not majors:
        raise ClusterError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql. "
            "Install them: apt-get install postgresql postgresql-<major>-postgis-3 (or run `make install`)."
        )
    for major in majors:
        if (SHARE_ROOT / str(major) / "extension" / "postgis.control").exists():
            return PostgresInstall(major, PG_ROOT / str(major) / "bin")
    raise ClusterError(
        f"PostGIS is not installed for PostgreSQL {majors[0]}. "
        f"Install it: apt-get install postgresql-{majors[0]}-postgis-3 (or run `make install`)."
    )


def _is_root() -> bool:
    return os.geteuid() == 0


def _server_can_reach(path: Path) -> bool:
    """True if the server user can traverse every parent of ``path`` (root only)."""
    probe = subprocess.run(
        ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(path)], capture_output=True, check=False
    )
    return probe.returncode == 0


class LocalCluster:
    """The PostGIS cluster that lives in the project's data directory."""

    def __init__(self, settings: Settings, install: PostgresInstall | None = None) -> None:
        self.settings = settings
        self.install = install or find_postgres()
        self.dir = self._choose_dir(settings.pg_dir)
        self.log_file = self.dir.parent / "postgresql.log"

    @staticmethod
    def _choose_dir(wanted: Path) -> Path:
        """The data directory; as root, one the ``postgres`` user can reach."""
        if not _is_root():
            return wanted
        wanted.parent.mkdir(parents=True, exist_ok=True)
        if _server_can_reach(wanted.parent):
            return wanted
        # A checkout under a private home directory: keep the cluster in /var/tmp instead.
        digest = hashlib.sha1(str(wanted).encode()).hexdigest()[:10]
        return Path("/var/tmp") / f"huegis-{digest}" / "pg"

    # -- running commands --------------------------------------------------------------

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if _is_root():
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise ClusterError(f"{args[0]} failed: {(result.stderr or result.stdout).strip()}")
        return result

    def _own(self, path: Path) -> None:
        if _is_root():
            shutil.chown(path, SERVER_USER, SERVER_USER)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def initialised(self) -> bool:
        return (self.dir / "PG_VERSION").exists()

    def init(self) -> bool:
        """Create the cluster if it does not exist; return True if it was created."""
        if self.initialised:
            return False
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        self._own(self.dir.parent)
        self.dir.mkdir(mode=0o700, exist_ok=True)
        self._own(self.dir)
        pwfile = self.dir.parent / ".pwfile"
        pwfile.write_text(self.settings.db_password + "\n")
        pwfile.chmod(0o600)
        self._own(pwfile)
        try:
            self._run(
                self.install.tool("initdb"),
                "-D", str(self.dir),
                "-U", self.settings.db_user,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        conf = PG_CONF.format(host=self.settings.db_host, port=self.settings.db_port, socket_dir=self.dir)
        with (self.dir / "postgresql.conf").open("a") as fh:
            fh.write(conf)
        return True

    def running(self) -> bool:
        """True if this cluster's postmaster is running."""
        if not self.initialised:
            return False
        return self._run(self.install.tool("pg_ctl"), "status", "-D", str(self.dir), check=False).returncode == 0

    def start(self) -> None:
        """Initialise if needed, start the server, and wait until it accepts connections."""
        self.init()
        if self.running():
            port = self.running_port()
            if port is not None and port != self.settings.db_port:
                raise ClusterError(
                    f"the cluster in {self.dir} is running on port {port}, not HUEGIS_DB_PORT={self.settings.db_port}; "
                    "stop it (`huegis db stop`) and start it again to move it"
                )
            return
        if _port_in_use(self.settings.db_host, self.settings.db_port):
            raise ClusterError(
                f"port {self.settings.db_port} on {self.settings.db_host} is taken by another server; "
                "set HUEGIS_DB_PORT to a free port (or DATABASE_URL to use that server)."
            )
        if not self.log_file.exists():
            self.log_file.touch()
            self._own(self.log_file)
        # The port of the settings, not the one written into postgresql.conf at initdb: HUEGIS_DB_PORT holds.
        self._run(self.install.tool("pg_ctl"), "start", "-D", str(self.dir), "-l", str(self.log_file), "-w", "-t", "60",
                  "-o", f"-p {self.settings.db_port}")  # fmt: skip

    def running_port(self) -> int | None:
        """The port the running server listens on (line 4 of postmaster.pid), if it says."""
        try:
            lines = (self.dir / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (OSError, IndexError, ValueError):
            return None

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` rolls back open transactions; ``immediate`` crashes it)."""
        if self.running():
            self._run(self.install.tool("pg_ctl"), "stop", "-D", str(self.dir), "-m", mode, "-w", "-t", "60")

    def reset(self) -> None:
        """Delete the cluster and start an empty one."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.start()

    def status(self) -> dict[str, object]:
        """What a person asks: where, which version, running or not."""
        return {
            "data_dir": str(self.dir),
            "postgresql": self.install.major,
            "port": self.settings.db_port,
            "initialised": self.initialised,
            "running": self.running(),
            "log": str(self.log_file),
        }


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_database(settings: Settings, *, timeout_s: float = 30) -> None:
    """Create the platform's database (local cluster only) and the PostGIS extension."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if not settings.external_db:
                _create_database(settings)
            with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise ClusterError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
            time.sleep(0.5)
        except psycopg.errors.FeatureNotSupported as exc:
            raise ClusterError(f"PostGIS is not available in this database: {exc}") from exc


def _create_database(settings: Settings) -> None:
    with psycopg.connect(settings.conninfo(dbname="postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (settings.db_name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings.db_name)))


def drop_database(settings: Settings, name: str) -> None:
    """Drop a database of the local cluster (used for throwaway test databases)."""
    with psycopg.connect(settings.conninfo(dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
