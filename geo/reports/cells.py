"""Citizen reports counted per grid cell (``report_cells``): the low-zoom report tiles are drawn from it.

A cell is a WebMercatorQuad tile of zoom 17 (~306 m square in EPSG:3857), so every tile below zoom
12 is a whole number of cells and re-aggregates them exactly (geo/sql/tiles/report_bins.sql); the
sums per zoom-14 tile (8 x 8 cells, ~2.4 km) are kept too, so tiles of zoom 8 and less read
about a tenth of the rows.
Statement triggers on ``citizen_reports`` mark the cells each write changed in
``report_cells_dirty`` (migration 0027, in the writer's transaction). The ``report-cells`` job
(the leader of the JobGroup, every ``report_cells_interval_s``) takes the marks and recounts only
those cells; after a history load ``rebuild_report_cells`` recounts every cell. The aggregate is
therefore at most one interval plus one run behind the reports, and each run that changes it bumps
``layer_versions['report_cells']``, the low-zoom tiles' cache key.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import AsyncConnection

from geo.db import load_sql

CELL_ZOOM = 17  # a cell is one tile of this zoom
COARSE_ZOOM = 14  # and its sums per tile of this zoom (8 x 8 cells), for the lowest zooms
BATCH = 5000  # cells recounted per transaction: a run after a storm of writes commits in steps


async def refresh_report_cells(conn: AsyncConnection, *, batch: int = BATCH) -> int:
    """Recount the cells marked since the last run; the number of cells recounted.

    Each batch is one transaction: take the oldest marks, then recount in a later statement (so
    it sees every write whose mark it took). Skipped while a rebuild holds the lock.
    """
    recounted = 0
    while True:
        async with conn.transaction(), conn.cursor() as cur:
            await cur.execute(load_sql("reports/cells_try_lock"))
            locked = await cur.fetchone()
            if not (locked and locked[0]):
                return recounted
            await cur.execute(load_sql("reports/cells_take"), {"batch": batch})
            taken = await cur.fetchall()
            if taken:  # an empty recount would still bump the layer version (statement triggers)
                await cur.execute(load_sql("reports/cells_recount"), _cells(taken))
                await cur.execute(load_sql("reports/cells_recount_coarse"), _cells(taken))
        recounted += len(taken)
        if len(taken) < batch:
            return recounted


def rebuild_report_cells(conn: psycopg.Connection) -> int:
    """Recount every cell from every report in one transaction (after a load); the number of cells.

    Readers see the old counts until it commits; the job waits meanwhile.
    """
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(load_sql("reports/cells_lock"))
        cur.execute(load_sql("reports/cells_forget_marks"))
        cur.execute(load_sql("reports/cells_clear"))
        cur.execute(load_sql("reports/cells_rebuild"))
        cells = cur.rowcount
        cur.execute(load_sql("reports/cells_rebuild_coarse"))
        return cells


def _cells(taken: list[tuple[Any, ...]]) -> dict[str, list[int]]:
    return {"xs": [row[0] for row in taken], "ys": [row[1] for row in taken]}
