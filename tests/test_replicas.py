"""Workers and read replicas: the platform with HUEGIS_LOCAL_REPLICAS=1 and two workers.

A throwaway cluster (``throwaway.py``) with one streaming replica made by ``huegis serve``, and
two worker processes. Public reads come from the replica; a citizen sees their own report at
once even while the replica has not replayed it; the caches of both workers follow a write;
background jobs run in one worker and move when it dies; a replica that falls behind or dies
leaves the rotation, and reads go on from the primary without a 5xx.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from throwaway import Platform, throwaway_platform, wait_until

from geo.db import LAGGING, STREAMING, Pools, load_sql
from geo.jobs import DEFAULT_GROUP

CENTRE = (107.5775, 16.4680)  # the Imperial City, Phú Xuân
TMS = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    # A replica never lags out of rotation here (the lag test below drives its own Pools): reads of
    # a paused replica are then known to come from it. The SLA job runs every second.
    extra = {"HUEGIS_REPLICA_MAX_LAG_S": "3600", "HUEGIS_REPLICA_CHECK_INTERVAL_S": "0.5",
             "HUEGIS_ESCALATION_INTERVAL_S": "1"}  # fmt: skip
    with throwaway_platform("huegis-replicas-", workers=2, replicas=1, extra_env=extra) as platform:
        yield platform


def replica_conninfo(platform: Platform) -> str:
    return platform.settings.conninfo(port=platform.settings.replica_ports[0])


def replica_states(url: str) -> list[str]:
    return [r["state"] for r in httpx.get(f"{url}/healthz", timeout=10).json().get("replicas", [])]


def file_report(http: httpx.Client, lon: float = CENTRE[0], lat: float = CENTRE[1], note: str = "") -> dict:
    body = {"category": "garbage", "description": f"Rác thải bên đường, kiểm thử bản sao {note}", "lon": lon,
            "lat": lat, "channel": "app"}  # fmt: skip
    response = http.post("/api/reports", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    return response.json()


def tile_at(z: int) -> tuple[int, int, int]:
    tile = TMS.tile(*CENTRE, z)
    return tile.z, tile.x, tile.y


def bbox_around(lon: float, lat: float, d: float = 1e-6) -> str:
    return f"{lon - d},{lat - d},{lon + d},{lat + d}"


def scans_on_replica(platform: Platform) -> int:
    """Table scans of citizen_reports counted by the replica itself (its own statistics)."""
    with psycopg.connect(replica_conninfo(platform), autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
            "WHERE relname = 'citizen_reports'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_the_replica_is_made_listed_and_streaming(platform: Platform) -> None:
    [replica] = platform.replica_status()
    assert replica["port"] == platform.settings.replica_ports[0]
    assert replica["running"] and isinstance(replica["pid"], int)
    assert replica["state"] == "streaming"
    assert wait_until(lambda: replica_states(platform.url) == ["streaming"])
    health = httpx.get(f"{platform.url}/healthz").json()
    assert health["status"] == "ok"
    assert health["replicas"][0]["lag_s"] is not None


def test_public_reads_come_from_the_replica(platform: Platform) -> None:
    with httpx.Client(base_url=platform.url, timeout=30) as author:
        codes = [file_report(author, CENTRE[0] + i * 1e-4, CENTRE[1], note=str(i))["code"] for i in range(5)]
    before = scans_on_replica(platform)
    z, x, y = tile_at(15)
    paths = [
        "/ogc/collections/citizen_reports/items?bbox=107.57,16.46,107.59,16.48&limit=100",
        "/api/kpis?group_by=unit",
        f"/tiles/citizen_reports/{z}/{x}/{y}.mvt",
        f"/api/reports/{codes[0]}",
    ]
    statuses = [httpx.get(platform.url + path, timeout=30).status_code for _ in range(5) for path in paths]
    assert set(statuses) <= {200, 204}, statuses
    # The replica's own statistics show the reads (flushed within a second or so).
    assert wait_until(lambda: scans_on_replica(platform) > before, seconds=30)


def test_writes_are_visible_to_their_author_at_once(platform: Platform) -> None:
    """With the replica's replay paused, the author's reads go to the primary; others' to the replica."""
    with psycopg.connect(replica_conninfo(platform), autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            with httpx.Client(base_url=platform.url, timeout=30) as author:
                lon, lat = CENTRE[0] + 0.002, CENTRE[1] + 0.001
                filed = file_report(author, lon, lat, note="author")
                assert author.cookies.get("huegis_lsn")
                position = author.cookies["huegis_lsn"]
                page = f"/ogc/collections/citizen_reports/items?bbox={bbox_around(lon, lat)}"
                assert author.get(f"/api/reports/{filed['code']}").status_code == 200
                assert author.get(page).json()["numberReturned"] == 1
                assert author.get(f"/ogc/collections/citizen_reports/items/{filed['code']}").status_code == 200
            # A client without the cookie reads the paused replica: the report is not there yet...
            assert httpx.get(platform.url + page).json()["numberReturned"] == 0
            # ...unless it names the position of the write (clients without cookies: the header).
            named = httpx.get(platform.url + page, headers={"X-HueGIS-LSN": position})
            assert named.json()["numberReturned"] == 1
            # The public report view asks the primary when the replica does not know the code.
            assert httpx.get(f"{platform.url}/api/reports/{filed['code']}").status_code == 200
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")
    assert wait_until(lambda: httpx.get(platform.url + page).json()["numberReturned"] == 1)


def _tile(platform: Platform, path: str, **headers: str) -> httpx.Response:
    response = httpx.get(platform.url + path, headers=headers, timeout=30)  # a new connection: any worker
    assert response.status_code == 200, response.text
    return response


def test_the_caches_of_both_workers_follow_a_write(platform: Platform) -> None:
    z, x, y = tile_at(16)
    path = f"/tiles/citizen_reports/{z}/{x}/{y}.mvt"
    features = lambda r: len(mapbox_vector_tile.decode(r.content)["citizen_reports"]["features"])  # noqa: E731
    first = [_tile(platform, path) for _ in range(12)]  # new connections: both workers fill their caches
    [counted] = {features(r) for r in first}
    with httpx.Client(base_url=platform.url, timeout=30) as author:
        file_report(author, CENTRE[0] + 0.0003, CENTRE[1] + 0.0002, note="cache")
    page = f"/ogc/collections/citizen_reports/items?bbox={bbox_around(CENTRE[0] + 0.0003, CENTRE[1] + 0.0002)}"
    assert wait_until(lambda: httpx.get(platform.url + page).json()["numberReturned"] == 1)  # replayed
    # A hard reload reads the layer versions afresh: whichever worker answers, a new key, new content.
    # (The SLA job's UPDATE bumps the layer's version every second here too: keys keep changing.)
    after = [_tile(platform, path, **{"Cache-Control": "no-cache"}) for _ in range(12)]
    assert {r.headers["etag"] for r in after}.isdisjoint({r.headers["etag"] for r in first})
    assert [features(r) for r in after] == [counted + 1] * len(after)


def leaders(platform: Platform) -> list[str]:
    with psycopg.connect(platform.settings.conninfo(), autocommit=True) as conn:
        rows = conn.execute(load_sql("jobs/leader"), {"name": DEFAULT_GROUP}).fetchall()
    return [row[1] for row in rows]


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def overdue_report(platform: Platform, http: httpx.Client) -> str:
    """A report filed through the API whose deadline has passed (set in the database)."""
    code = file_report(http, note="overdue")["code"]
    with psycopg.connect(platform.settings.conninfo(), autocommit=True) as conn:
        conn.execute("UPDATE citizen_reports SET received_at = now() - interval '10 days', "
                     "due_at = now() - interval '1 day' WHERE code = %s", (code,))  # fmt: skip
    return code


def escalated(platform: Platform, code: str) -> bool:
    with psycopg.connect(platform.settings.conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT escalated_at IS NOT NULL FROM citizen_reports WHERE code = %s", (code,)).fetchone()
    return bool(row and row[0])


def test_background_jobs_run_in_one_worker_and_move_when_it_dies(platform: Platform) -> None:
    assert wait_until(lambda: len(leaders(platform)) == 1)
    [name] = leaders(platform)
    group, _, pid_text = name.partition(":")
    leader_pid = int(pid_text)
    assert group == DEFAULT_GROUP
    assert parent_of(leader_pid) == platform.app.pid  # a worker of this app
    with httpx.Client(base_url=platform.url, timeout=30) as http:
        code = overdue_report(platform, http)
        assert wait_until(lambda: escalated(platform, code)), "the SLA job did not run"
        os.kill(leader_pid, signal.SIGKILL)

        def new_leader() -> bool:
            found = leaders(platform)  # read once: the lock may change hands between two reads
            return len(found) == 1 and found[0] != name

        assert wait_until(new_leader)
        assert len(leaders(platform)) == 1
        code = overdue_report(platform, http)
        assert wait_until(lambda: escalated(platform, code)), "the SLA job did not run in the new leader"
    assert wait_until(lambda: httpx.get(f"{platform.url}/healthz").status_code == 200)


def test_a_replica_that_falls_behind_leaves_the_rotation(platform: Platform) -> None:
    settings = platform.settings.model_copy(update={"replica_max_lag_s": 1.0})

    async def scenario() -> None:
        pools = Pools(settings)
        await pools.open()
        try:
            await pools.check()
            [replica] = pools.replicas
            assert replica.state == STREAMING and pools.pick() is replica
            with psycopg.connect(replica_conninfo(platform), autocommit=True) as standby:
                standby.execute("SELECT pg_wal_replay_pause()")
                try:
                    async with pools.write() as conn:
                        await conn.execute("CREATE TABLE IF NOT EXISTS lag_probe (at timestamptz)")
                        await conn.execute("INSERT INTO lag_probe VALUES (now())")
                    for _ in range(300):
                        await pools.check()
                        if replica.state == LAGGING:
                            break
                        await asyncio.sleep(0.2)
                    assert replica.state == LAGGING, replica.status()
                    assert pools.pick() is None  # reads go to the primary
                    assert replica.lag_bytes and replica.lag_bytes > 0
                finally:
                    standby.execute("SELECT pg_wal_replay_resume()")
            for _ in range(300):
                await pools.check()
                if replica.state == STREAMING:
                    break
                await asyncio.sleep(0.2)
            assert replica.state == STREAMING and pools.pick() is replica
        finally:
            await pools.close()

    asyncio.run(scenario())


def test_reads_go_on_without_a_5xx_when_the_replica_dies(platform: Platform) -> None:
    [replica] = platform.replica_status()
    z, x, y = tile_at(14)
    with httpx.Client(base_url=platform.url, timeout=30) as author:
        code = file_report(author, note="before the replica dies")["code"]
    paths = [
        "/ogc/collections/citizen_reports/items?bbox=107.57,16.46,107.59,16.48&limit=50",
        "/ogc/collections/citizen_reports/items?limit=10&offset=2",
        f"/ogc/collections/citizen_reports/items/{code}",
        "/api/kpis?group_by=category",
        f"/tiles/citizen_reports/{z}/{x}/{y}.mvt",
        f"/api/reports/{code}",
        "/api/hotspots/grid?period=week",
    ]
    os.kill(replica["pid"], signal.SIGKILL)
    statuses: list[int] = []
    for _ in range(4):
        for path in paths:
            statuses.append(httpx.get(platform.url + path, timeout=30).status_code)
    assert all(status < 500 for status in statuses), statuses
    assert wait_until(lambda: replica_states(platform.url) == ["down"])
    health = httpx.get(f"{platform.url}/healthz")
    assert health.status_code == 200  # the primary serves: the platform is healthy
    assert health.json()["replicas"][0]["in_rotation"] is False
    statuses = [httpx.get(platform.url + path, timeout=30).status_code for path in paths]
    assert all(status < 500 for status in statuses), statuses
    # Writes are unaffected, and visible to their author at once.
    with httpx.Client(base_url=platform.url, timeout=30) as author:
        code = file_report(author, note="replica down")["code"]
        assert author.get(f"/api/reports/{code}").status_code == 200
    # Started again, it catches up and rejoins the rotation.
    platform.huegis("db", "replica", "start")
    assert wait_until(lambda: replica_states(platform.url) == ["streaming"])
    assert httpx.get(platform.url + paths[0]).status_code == 200
