"""Low-zoom citizen_reports tiles from report_cells: decoded counts against the reports in PostGIS,
the triggers' marks and the report-cells job folding intake in, the cache key following the
aggregate, and the rebuild after a load agreeing with the incremental path."""

from __future__ import annotations

import asyncio

import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from job_helpers import first_run
from psycopg_pool import AsyncConnectionPool

from api.main import recount_report_cells
from geo.reports.cells import refresh_report_cells
from geo.settings import Settings
from tiles.vector import BINS_PER_SIDE, CAP_FROM_ZOOM, EXTENT

TMS = morecantile.tms.get("WebMercatorQuad")
CITADEL = (107.5775, 16.4680)  # the Imperial City (Đại Nội)
FRESH = {"Cache-Control": "no-cache"}
IN_TILE = "ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(%s, %s, %s))"
OPEN = ("received", "assigned", "in_progress", "reopened")
RESOLVED = ("resolved", "closed")
# Every cell as a rebuild computes it (geo/sql/reports/cells_rebuild.sql), to compare with the table.
EXPECTED_CELLS = """
SELECT cell.x, cell.y, count(*)::integer,
       (count(*) FILTER (WHERE r.status IN ('received', 'assigned', 'in_progress', 'reopened')))::integer,
       (count(*) FILTER (WHERE r.status IN ('resolved', 'closed')))::integer
FROM citizen_reports AS r CROSS JOIN LATERAL huegis_report_cell(r.geom) AS cell GROUP BY cell.x, cell.y
"""
STORED_CELLS = "SELECT x, y, reports, open_reports, resolved_reports FROM report_cells WHERE zoom = 17"
# The coarse cells (zoom 14) as sums of the fine ones.
EXPECTED_COARSE = """
SELECT x >> 3, y >> 3, sum(reports)::integer, sum(open_reports)::integer, sum(resolved_reports)::integer
FROM report_cells WHERE zoom = 17 GROUP BY x >> 3, y >> 3
"""
STORED_COARSE = "SELECT x, y, reports, open_reports, resolved_reports FROM report_cells WHERE zoom = 14"


def refresh(settings: Settings) -> int:
    """One run of the report-cells job, as the leader runs it."""

    async def run() -> int:
        async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
            return await refresh_report_cells(conn)

    return asyncio.run(run())


def tile_of(z: int, lon: float = CITADEL[0], lat: float = CITADEL[1]) -> tuple[int, int, int]:
    tile = TMS.tile(lon, lat, z)
    return z, tile.x, tile.y


def bins(client: httpx.Client, z: int, x: int, y: int) -> list[dict]:
    response = client.get(f"/tiles/citizen_reports/{z}/{x}/{y}.mvt", headers=FRESH)
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.text
    return mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})["citizen_reports"][
        "features"
    ]


def reports_in(db: psycopg.Connection, z: int, x: int, y: int, statuses: tuple[str, ...] | None = None) -> int:
    """Reports inside the tile (no buffer: bins never cross a tile's edge), straight from PostGIS."""
    row = db.execute(
        f"SELECT count(*) FROM citizen_reports WHERE {IN_TILE} AND (%s::text[] IS NULL OR status = ANY(%s::text[]))",
        (z, x, y, statuses and list(statuses), statuses and list(statuses)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def etag(client: httpx.Client, z: int, x: int, y: int) -> str:
    return client.get(f"/tiles/citizen_reports/{z}/{x}/{y}.mvt", headers=FRESH).headers["etag"]


def totals(features: list[dict]) -> tuple[int, int, int]:
    props = [f["properties"] for f in features]
    return sum(p["count"] for p in props), sum(p["open"] for p in props), sum(p["resolved"] for p in props)


@pytest.mark.parametrize("z", [5, 8, 9, 11])  # coarse cells up to zoom 8, fine ones above
def test_low_zoom_counts_sum_to_the_reports_in_the_tile(
    client: httpx.Client, db: psycopg.Connection, loaded: Settings, z: int
) -> None:
    refresh(loaded)  # other tests filed reports
    z, x, y = tile_of(z)
    features = bins(client, z, x, y)
    assert features, "Huế's reports are under this tile"
    expected = (reports_in(db, z, x, y), reports_in(db, z, x, y, OPEN), reports_in(db, z, x, y, RESOLVED))
    assert totals(features) == expected
    step = EXTENT // BINS_PER_SIDE
    seen = set()
    for feature in features:
        assert set(feature["properties"]) == {"count", "open", "resolved"}, "counts only: no report's attributes"
        assert feature["geometry"]["type"] == "Point" and feature["properties"]["count"] >= 1
        px, py = feature["geometry"]["coordinates"]
        assert 0 <= px <= EXTENT and 0 <= py <= EXTENT, "a bin lies inside its tile"
        # The id is the bin (column * bins + row) and the point lies in that bin.
        assert feature["id"] == min(int(px) // step, BINS_PER_SIDE - 1) * BINS_PER_SIDE + min(
            int(py) // step, BINS_PER_SIDE - 1
        )
        seen.add(feature["id"])
    assert len(seen) == len(features), "one feature per occupied bin"


def test_tiles_from_zoom_12_are_the_reports(client: httpx.Client, db: psycopg.Connection) -> None:
    z, x, y = tile_of(CAP_FROM_ZOOM)
    response = client.get(f"/tiles/citizen_reports/{z}/{x}/{y}.mvt", headers=FRESH)
    assert response.status_code == 200
    features = mapbox_vector_tile.decode(response.content)["citizen_reports"]["features"]
    codes = {f["properties"]["code"] for f in features}
    assert codes and all("count" not in f["properties"] for f in features), "points with their attributes"
    assert codes >= {
        r[0]
        for r in db.execute(
            f"SELECT code FROM citizen_reports WHERE {IN_TILE}",
            (z, x, y),
        ).fetchall()
    }


def test_a_report_filed_through_intake_appears_after_the_refresh(
    client: httpx.Client, db: psycopg.Connection, loaded: Settings
) -> None:
    refresh(loaded)
    z, x, y = tile_of(8)
    before = bins(client, z, x, y)
    low_etag = etag(client, z, x, y)
    high = tile_of(14)
    high_etag = etag(client, *high)
    filed = client.post("/api/reports", json={"category": "garbage", "description": "Rác tồn đọng cạnh cổng Ngọ Môn",
                                              "lon": CITADEL[0], "lat": CITADEL[1]})  # fmt: skip
    assert filed.status_code == 201, filed.text
    marked = db.execute(
        "SELECT count(*) FROM report_cells_dirty d, citizen_reports r, huegis_report_cell(r.geom) c "
        "WHERE r.code = %s AND d.x = c.x AND d.y = c.y",
        (filed.json()["code"],),
    ).fetchone()
    assert marked == (1,), "intake marked the report's cell in its own transaction"
    # Points (zoom 12 and more) show it at once; the counts wait for the job, and so does their ETag.
    assert etag(client, *high) != high_etag
    assert etag(client, z, x, y) == low_etag
    assert totals(bins(client, z, x, y)) == totals(before)
    assert refresh(loaded) >= 1
    after = bins(client, z, x, y)
    count, open_, resolved = totals(before)
    assert totals(after) == (count + 1, open_ + 1, resolved)
    assert etag(client, z, x, y) != low_etag
    assert refresh(loaded) == 0, "nothing left to recount"


def test_status_changes_moves_and_deletes_follow(db: psycopg.Connection, loaded: Settings) -> None:
    refresh(loaded)
    report_id, status, geom = db.execute(
        "SELECT id, status, geom::text FROM citizen_reports WHERE status = 'received' ORDER BY id LIMIT 1"
    ).fetchone() or (None, None, None)
    assert report_id is not None

    def cell_of_report() -> tuple[int, int, int, int] | None:
        return db.execute(
            "SELECT rc.reports, rc.open_reports, rc.resolved_reports, rc.x FROM citizen_reports r "
            "CROSS JOIN LATERAL huegis_report_cell(r.geom) c "
            "JOIN report_cells rc ON (rc.zoom, rc.x, rc.y) = (17, c.x, c.y) WHERE r.id = %s",
            (report_id,),
        ).fetchone()

    start = cell_of_report()
    assert start is not None
    try:
        db.execute("UPDATE citizen_reports SET escalated_at = escalated_at WHERE id = %s", (report_id,))
        assert db.execute("SELECT count(*) FROM report_cells_dirty").fetchone() == (0,), "no change of group"
        db.execute("UPDATE citizen_reports SET status = 'resolved', resolved_at = received_at + interval '1 hour' "
                   "WHERE id = %s", (report_id,))  # fmt: skip
        refresh(loaded)
        assert cell_of_report() == (start[0], start[1] - 1, start[2] + 1, start[3])
        # Moved 2 km east: one report less in the old cell, one more in the new.
        db.execute("UPDATE citizen_reports SET geom = ST_Translate(geom, 0.02, 0) WHERE id = %s", (report_id,))
        refresh(loaded)
        moved = cell_of_report()
        assert moved is not None and moved[3] != start[3]
        missing = db.execute(f"SELECT count(*) FROM ({EXPECTED_CELLS} EXCEPT {STORED_CELLS}) AS missing").fetchone()
        assert missing == (0,)
    finally:
        db.execute("UPDATE citizen_reports SET status = %s, resolved_at = NULL, geom = %s::geometry WHERE id = %s",
                   (status, geom, report_id))  # fmt: skip
        refresh(loaded)
    assert cell_of_report() == start


def test_incremental_counts_equal_a_rebuild(db: psycopg.Connection, loaded: Settings) -> None:
    refresh(loaded)
    for expected, stored in ((EXPECTED_CELLS, STORED_CELLS), (EXPECTED_COARSE, STORED_COARSE)):
        for query in (f"{expected} EXCEPT {stored}", f"{stored} EXCEPT {expected}"):
            assert db.execute(f"SELECT count(*) FROM ({query}) AS differ").fetchone() == (0,)
    reports = db.execute("SELECT count(*) FROM citizen_reports").fetchone()
    for zoom in (14, 17):
        assert db.execute("SELECT sum(reports) FROM report_cells WHERE zoom = %s", (zoom,)).fetchone() == reports


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/tiles/citizen_reports/5/32/0.mvt", 400),  # x beyond 2^z - 1
        ("/tiles/citizen_reports/8/0/256.mvt", 400),
        ("/tiles/citizen_reports/25/0/0.mvt", 400),
        ("/tiles/citizen_reports/-1/0/0.mvt", 400),
        ("/tiles/collections/citizen_reports/tiles/WebMercatorQuad/5/40/0", 400),
    ],
)
def test_bad_low_zoom_tiles_are_refused(client: httpx.Client, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status and "detail" in response.json()


def test_metadata_says_what_low_zooms_show(client: httpx.Client) -> None:
    body = client.get("/tiles/citizen_reports/tilejson.json").json()
    (layer,) = body["vector_layers"]
    assert {"count", "open", "resolved", "code", "status"} <= set(layer["fields"])
    assert "report_cells" in body["description"] and "Below zoom 12" in body["description"]
    meta = client.get("/tiles/collections/citizen_reports/tiles/WebMercatorQuad").json()
    assert "count" in meta["layers"][0]["propertiesSchema"]["properties"]


def test_the_job_folds_intake_in(client: httpx.Client, db: psycopg.Connection, loaded: Settings) -> None:
    """The report-cells job as the leader runs it (api.main), in a job group of its own (the suite's
    server leads the default one, with the job off)."""
    refresh(loaded)
    z, x, y = tile_of(11)
    before = totals(bins(client, z, x, y))[0]
    filed = client.post("/api/reports", json={"category": "garbage", "description": "Rác tồn đọng ở cửa Hiển Nhơn",
                                              "lon": CITADEL[0], "lat": CITADEL[1]})  # fmt: skip
    assert filed.status_code == 201, filed.text

    async def lead() -> tuple[int, int]:
        async with AsyncConnectionPool(loaded.conninfo(), min_size=1, max_size=2, open=False) as pool:
            return await first_run(loaded.conninfo(), "report-cells", lambda: recount_report_cells(pool))

    runs, failures = asyncio.run(lead())
    assert runs >= 1 and failures == 0
    assert totals(bins(client, z, x, y))[0] == before + 1
    assert db.execute("SELECT count(*) FROM report_cells_dirty").fetchone() == (0,)


def test_the_metadata_says_when_the_counts_are_not_recounted(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the job off the counts stay as rebuilt: "every 0 s" would say the opposite."""
    from geo.settings import get_settings
    from tiles.metadata import description
    from tiles.vector import all_tilesets

    def said(interval_s: str) -> str:
        monkeypatch.setenv("HUEGIS_REPORT_CELLS_INTERVAL_S", interval_s)
        get_settings.cache_clear()
        try:
            return description(all_tilesets()["citizen_reports"])
        finally:
            get_settings.cache_clear()

    frozen, running = said("0"), said("10")
    assert "not recounted here" in frozen and "every 0 s" not in frozen
    assert "recounted every 10 s" in running and "at most 20,000 per tile" in running
