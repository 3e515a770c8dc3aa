"""Our app in its own uvicorn process on a free port: the suite's server and the special ones."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from geo.settings import PROJECT_DIR

# No access log; no proxy headers: the app itself decides whose X-Forwarded-For to believe; no banner.
UVICORN_FLAGS = ("--no-access-log", "--no-proxy-headers", "--no-server-header")


@dataclass
class AppServer:
    """A running app: its base URL and its process."""

    url: str
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def app_server(
    env: Mapping[str, str],
    log: Path,
    *,
    ready: str = "/healthz",
    workers: int = 1,
    cli: bool = False,
    ready_within_s: float = 60,
) -> Iterator[AppServer]:
    """Serve ``api.main:create_app`` with ``env`` (plus its port and public URL) until ``ready`` answers 200.

    ``cli``: through ``huegis serve --no-prepare`` (which also starts HUEGIS_LOCAL_REPLICAS) rather than uvicorn.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**env, "HUEGIS_PORT": str(port), "HUEGIS_PUBLIC_URL": url}
    if cli:
        huegis = str(Path(sys.executable).with_name("huegis"))
        command = [huegis, "serve", "--no-prepare", "--workers", str(workers)]
    else:
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--port", str(port),
                   "--workers", str(workers), *UVICORN_FLAGS]  # fmt: skip
    with log.open("w") as out:
        # A session of its own: worker processes go down with the server, even when it is killed.
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    try:
        _wait_until_ready(url + ready, process, log, ready_within_s)
        yield AppServer(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # any worker left behind


def _wait_until_ready(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server did not start: {log.read_text()[-3000:]}")
        time.sleep(0.3)
