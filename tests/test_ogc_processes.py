"""The hot-spot forecast as an OGC API - Processes process on the pygeoapi mount: described publicly, executed
by GIS administrators synchronously (OWSLib) and as a job (status, results), 400 naming a bad input, 401/403."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from owslib.ogcapi.processes import Processes
from shapely.geometry import box, shape

from geo.ogc.processes import INPUTS, MAX_SYNC_CELLS, PROCESS_ID

EXECUTE = f"/ogc/processes/{PROCESS_ID}/execution"
OLD_CITY = [107.56, 16.44, 107.62, 16.49]  # the Citadel and both banks of the Perfume River: ~220 hexagons
JOB_WAIT_S = 240


@pytest.fixture
def admin(staff_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
    return staff_headers("gis_admin")


def test_the_process_is_described_publicly(server: str) -> None:
    processes = Processes(f"{server}/ogc")
    assert PROCESS_ID in {p["id"] for p in processes.processes()}
    described = processes.process(PROCESS_ID)
    assert set(described["inputs"]) == set(INPUTS)
    assert set(described["jobControlOptions"]) == {"sync-execute", "async-execute"}
    assert described["inputs"]["period"]["schema"]["enum"] == ["day", "week", "month"]
    assert "forecast" in described["outputs"]
    assert described["example"]["inputs"]["bbox"]


def test_sync_execution_on_a_small_area_returns_ranked_cells_inside_it(server: str, admin: dict[str, str]) -> None:
    processes = Processes(f"{server}/ogc", headers=admin, timeout=120)
    result = processes.execute(PROCESS_ID, {"bbox": OLD_CITY, "period": "week", "cell_m": 250, "model": "eb"},
                               response="raw")  # fmt: skip
    assert result["type"] == "FeatureCollection"
    features = result["features"]
    assert features, "the old city has reports: some cells are flagged"
    ranks = [f["properties"]["rank"] for f in features]
    assert ranks == list(range(1, len(features) + 1))
    expected = [f["properties"]["expected"] for f in features]
    assert expected == sorted(expected, reverse=True) and expected[-1] > 0
    area = box(*OLD_CITY)
    assert all(shape(f["geometry"]).intersects(area) for f in features)
    assert all(0 < f["properties"]["top_share"] <= 0.2 for f in features)
    assert result["cells"] >= len(features) and len(features) <= round(0.2 * result["cells"])
    assert result["model"]["name"] == "eb" and result["model"]["source"].startswith("requested")
    window = result["window"]
    assert window["periods"] >= 2 and window["first_period"] < window["last_period"]
    assert result["forecast_period"]["start"] > window["last_period"]
    # Hexagons of the published grid (six corners, the ring closed).
    first = shape(features[0]["geometry"])
    assert first.geom_type == "Polygon" and len(first.exterior.coords) == 7


def test_async_execution_on_the_city_is_a_job_with_status_and_results(client: httpx.Client,
                                                                      admin: dict[str, str]) -> None:  # fmt: skip
    body = {"inputs": {"period": "month", "cell_m": 2000, "top_share": 0.1, "model": "kde_long"}}
    response = client.post(EXECUTE, json=body, headers={**admin, "Prefer": "respond-async"})
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    assert "/ogc/jobs/" in location
    deadline = time.monotonic() + JOB_WAIT_S
    while True:
        status = client.get(location, headers=admin)
        assert status.status_code == 200, status.text
        job = status.json()
        if job["status"] in ("successful", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert job["status"] == "successful", job
    assert job["processID"] == PROCESS_ID
    results = client.get(f"{location}/results", headers=admin)
    assert results.status_code == 200, results.text
    forecast = results.json()
    assert forecast["bbox"] is None and forecast["model"]["name"] == "kde_long"
    ranks = [f["properties"]["rank"] for f in forecast["features"]]
    assert ranks and ranks == list(range(1, len(ranks) + 1))
    listed = client.get("/ogc/jobs", headers=admin)
    assert listed.status_code == 200 and job["jobID"] in {j["jobID"] for j in listed.json()["jobs"]}
    assert client.delete(location, headers=admin).status_code == 200
    assert client.get(location, headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"bbox": [107.5, 16.4, 107.6]}, "bbox"),
        ({"bbox": [107.6, 16.4, 107.5, 16.5]}, "bbox"),
        ({"bbox": [2.3, 48.8, 2.4, 48.9]}, "bbox"),
        ({"bbox": [107.56, 16.44, "east", 16.49]}, "bbox"),
        ({"period": "year"}, "period"),
        ({"cell_m": -5}, "cell_m"),
        ({"cell_m": "big"}, "cell_m"),
        ({"top_share": 0}, "top_share"),
        ({"top_share": 1.5}, "top_share"),
        ({"model": "crystal_ball"}, "model"),
        ({"colour": "red"}, "colour"),
        ({"category": "no_such_category", "bbox": OLD_CITY}, "category"),
        ({}, "respond-async"),  # the whole city at 250 m is too big to wait for
        ({"bbox": [107.2, 16.2, 107.9, 16.7], "cell_m": 250}, "respond-async"),
    ],
)
def test_bad_inputs_are_a_400_naming_the_input(client: httpx.Client, admin: dict[str, str], inputs: dict,
                                               named: str) -> None:  # fmt: skip
    response = client.post(EXECUTE, json={"inputs": inputs}, headers=admin)
    assert response.status_code == 400, response.text
    assert named in response.json()["description"]


def test_a_too_big_sync_area_names_the_limit(client: httpx.Client, admin: dict[str, str]) -> None:
    response = client.post(EXECUTE, json={"inputs": {}}, headers=admin)
    assert response.status_code == 400 and f"{MAX_SYNC_CELLS:,}" in response.json()["description"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", EXECUTE), ("GET", "/ogc/jobs"), ("GET", "/ogc/jobs/x"), ("GET", "/ogc/jobs/x/results"),
     ("DELETE", "/ogc/jobs/x")],
)  # fmt: skip
def test_executing_and_jobs_need_a_gis_administrator(client: httpx.Client, staff_headers: Callable[..., dict[str, str]],
                                                     method: str, path: str) -> None:  # fmt: skip
    body = {"inputs": {"bbox": OLD_CITY}} if method == "POST" else None
    anonymous = client.request(method, path, json=body)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    leader = client.request(method, path, headers=staff_headers("city_leader"), json=body)
    assert leader.status_code == 403 and "hotspots.run" in leader.json()["detail"]
