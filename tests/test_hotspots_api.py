"""The hot-spot API over the test history: a staff run publishes three layers (OGC API, tiles), read endpoints,
the CSV backtest upload and 4xx answers to bad input."""

from __future__ import annotations

import json
from pathlib import Path

import auth_helpers
import httpx
import psycopg
import pytest
from test_backtest import synthetic_city_csv

from geo.analytics.emerging import CATEGORIES
from geo.analytics.grid import hex_index
from geo.settings import Settings

LAYERS = ("hotspot_cells", "emerging_hotspots", "forecast_cells")
# The test history is small (3,000 reports over eight years): large cells and months keep it meaningful.
RUN = {"period": "month", "cell_m": 1500, "origins": 4, "ehsa_period": "month", "ehsa_slices": 12, "window": 6}


def gis_admin(settings: Settings) -> dict[str, str]:
    """A GIS administrator's headers (runs and backtests are theirs)."""
    return auth_helpers.staff_headers(settings, "gis_admin", username="gis.analyst")


@pytest.fixture
def staff(loaded: Settings) -> dict[str, str]:
    return gis_admin(loaded)


@pytest.fixture(scope="module")
def run(server: str, loaded: Settings) -> dict:
    with httpx.Client(base_url=server, timeout=300) as http:
        response = http.post("/api/hotspots/run", json=RUN, headers=gis_admin(loaded))
    assert response.status_code == 201, response.text
    return response.json()


def test_run_publishes_the_three_layers(run: dict, db: psycopg.Connection) -> None:
    assert run["rows"]["hotspot_cells"] > 0 and run["rows"]["forecast_cells"] > 0
    for table in LAYERS:
        row = db.execute(f"SELECT count(*), count(DISTINCT run_id), bool_and(synthetic) FROM {table}").fetchone()
        assert row == (run["rows"][table], 1 if run["rows"][table] else 0, True if run["rows"][table] else None)
    row = db.execute("SELECT count(*) FROM hotspot_cells WHERE gi_class > 0").fetchone()
    assert row is not None and row[0] == run["summary"]["hot_cells"] > 0, "the old city core is a hot spot"
    patterns = {r[0] for r in db.execute("SELECT DISTINCT pattern FROM emerging_hotspots").fetchall()}
    assert patterns <= set(CATEGORIES) - {"no_pattern"}
    backtest = run["backtest"]
    assert {m["name"] for m in backtest["models"]} == {"gbm", "last_period", "last_n", "long_run_mean", "kde"}
    assert run["chosen_model"] == backtest["chosen"]
    model = db.execute("SELECT DISTINCT model, period FROM forecast_cells").fetchall()
    assert model == [(backtest["chosen"], "month")]


def test_run_is_in_the_audit_log(run: dict, db: psycopg.Connection) -> None:
    """The service audits the run in the transaction that publishes it (the CLI path passes ``cli:<OS user>``)."""
    row = db.execute(
        "SELECT actor, role, details FROM audit_log WHERE action = 'hotspot_run' AND object_id = %s",
        (str(run["run_id"]),),
    ).fetchone()
    assert row is not None
    actor, role, details = row
    assert (actor, role) == ("gis.analyst", "gis_admin")
    assert details["rows"] == run["rows"]
    assert details["params"]["cell_m"] == RUN["cell_m"] and details["params"]["period"] == RUN["period"]


def test_published_cells_are_the_grid_hexagons(run: dict, db: psycopg.Connection) -> None:
    rows = db.execute(
        "SELECT cell_i, cell_j, ST_X(ST_Transform(ST_Centroid(geom), 32648)), "
        "ST_Y(ST_Transform(ST_Centroid(geom), 32648)) FROM hotspot_cells LIMIT 50"
    ).fetchall()
    import numpy as np

    i, j = hex_index(np.array([r[2] for r in rows]), np.array([r[3] for r in rows]), RUN["cell_m"])
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_are_served_by_ogc_api_and_tiles(run: dict, client: httpx.Client, layer: str) -> None:
    body = client.get(f"/ogc/collections/{layer}/items", params={"f": "json", "limit": 3}).json()
    assert body["numberMatched"] == run["rows"][layer]
    if run["rows"][layer]:
        assert body["features"][0]["geometry"]["type"] == "MultiPolygon"
        assert body["features"][0]["properties"]["run_id"] == run["run_id"]
    tile = client.get(f"/tiles/{layer}/10/816/455.mvt")  # the tile over central Huế
    assert tile.status_code in (200, 204)


def test_read_endpoints(run: dict, client: httpx.Client) -> None:
    latest = client.get("/api/hotspots/runs/latest").json()
    assert latest["id"] == run["run_id"] and latest["chosen_model"] == run["chosen_model"]
    assert latest["params"]["cell_m"] == RUN["cell_m"] and latest["actor"] == "gis_admin"  # a role, not the username
    assert client.get(f"/api/hotspots/runs/{run['run_id']}").json()["id"] == run["run_id"]
    assert client.get("/api/hotspots/runs/999999").status_code == 404
    backtest = client.get("/api/hotspots/backtest/latest").json()
    assert backtest["chosen"] == run["chosen_model"] and "margin" in backtest
    hot = client.get("/api/hotspots/now", params={"kind": "hot"}).json()
    assert hot["type"] == "FeatureCollection" and hot["features"]
    assert all(f["properties"]["gi_class"] > 0 for f in hot["features"])
    forecast = client.get("/api/hotspots/forecast", params={"top_share": 0.05}).json()
    assert forecast["features"] and all(f["properties"]["top_share"] <= 0.05 for f in forecast["features"])
    ranks = [f["properties"]["rank"] for f in forecast["features"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    emerging = client.get("/api/hotspots/emerging").json()
    assert len(emerging["features"]) == run["rows"]["emerging_hotspots"]
    assert client.get("/api/hotspots/emerging", params={"pattern": "boiling_hot"}).status_code == 400


def test_grid_counts_from_st_hexagongrid(client: httpx.Client, db: psycopg.Connection, loaded: Settings) -> None:
    params = {"start": "2025-01-01", "end": "2026-01-01", "period": "month", "cell_m": 1000}
    body = client.get("/api/hotspots/grid", params=params).json()
    total = sum(f["properties"]["events"] for f in body["features"])
    row = db.execute(
        "SELECT count(*) FROM citizen_reports WHERE received_at >= '2025-01-01T00:00+07' "
        "AND received_at < '2026-01-01T00:00+07'"
    ).fetchone()
    assert row is not None and total == row[0] > 0
    months = {f["properties"]["period_start"][:7] for f in body["features"]}
    assert months <= {f"2025-{m:02d}" for m in range(1, 13)}
    assert client.get("/api/hotspots/grid", params={**params, "cell_m": 0}).status_code == 400
    assert client.get("/api/hotspots/grid", params={**params, "period": "year"}).status_code == 422


def test_run_needs_a_gis_admin_and_valid_parameters(client: httpx.Client, staff: dict[str, str],
                                                    loaded: Settings) -> None:  # fmt: skip
    assert client.post("/api/hotspots/run", json=RUN).status_code == 401
    officer = auth_helpers.staff_headers(loaded, "emergency_officer")
    assert client.post("/api/hotspots/run", json=RUN, headers=officer).status_code == 403
    for bad in ({"cell_m": 0}, {"cell_m": -100}, {"origins": 2}, {"ehsa_slices": 2}):
        response = client.post("/api/hotspots/run", json={**RUN, **bad}, headers=staff)
        assert response.status_code == 400, (bad, response.text)
        assert next(iter(bad)).split("_")[0] in response.json()["detail"]
    response = client.post("/api/hotspots/run", json={**RUN, "category": "no_such_thing"}, headers=staff)
    assert response.status_code == 404
    assert client.post("/api/hotspots/run", json={**RUN, "period": "year"}, headers=staff).status_code == 422


def test_backtest_upload(client: httpx.Client, tmp_path: Path, staff: dict[str, str]) -> None:
    path = tmp_path / "city.csv"
    synthetic_city_csv(path, weeks=24, per_week=60)
    form = {"period": "week", "cell_m": "500", "origins": "4", "tz": "America/Sao_Paulo"}
    response = client.post(
        "/api/hotspots/backtest",
        files={"events": ("city.csv", path.read_bytes(), "text/csv")},
        data=form,
        headers=staff,
        timeout=300,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["study"]["crs"] == "EPSG:32723" and len(body["models"]) == 5
    assert (
        client.post(
            "/api/hotspots/backtest", files={"events": ("x.csv", b"a,b\n1,2\n", "text/csv")}, data=form
        ).status_code
        == 401
    )


BAD_UPLOADS = {
    "missing-columns": (b"id,created_at,category,lat\n1,2024-01-01T00:00:00Z,x,1\n", {}, "lacks the column(s) lon"),
    "no-rows": (b"id,created_at,category,lat,lon\n", {}, "no rows"),
    "unparsable-dates": (b"id,created_at,category,lat,lon\n1,not a date,x,10,10\n", {}, "ISO 8601"),
    "identical-points": (
        b"id,created_at,category,lat,lon\n"
        + b"".join(f"{k},2024-01-{k + 1:02d}T10:00:00Z,x,41.88,-87.63\n".encode() for k in range(20)),
        {},
        "same point",
    ),
    "cell-size": (
        b"id,created_at,category,lat,lon\n1,2024-01-01T00:00:00Z,x,41.88,-87.63\n",
        {"cell_m": "0"},
        "cell size",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_backtest_upload_refuses_bad_input(client: httpx.Client, case: str, staff: dict[str, str]) -> None:
    data, form, message = BAD_UPLOADS[case]
    response = client.post(
        "/api/hotspots/backtest",
        files={"events": ("bad.csv", data, "text/csv")},
        data={"period": "week", **form},
        headers=staff,
    )
    assert 400 <= response.status_code < 500
    assert message in json.dumps(response.json())
