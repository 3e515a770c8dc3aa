"""Backtest metrics by hand, and the `huegis hotspots backtest` command on a second city given only as a CSV."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.analytics.backtest import FRACTIONS, fraction_label, hits_at, run_backtest
from geo.analytics.events import place_events, read_events_csv
from geo.errors import InvalidInput
from geo.settings import PROJECT_DIR

HUEGIS = str(Path(sys.executable).with_name("huegis"))
MODELS = {"gbm", "last_period", "last_n", "long_run_mean", "kde", "kde_long", "eb", "etas", "blend"}


def test_hits_pai_and_pei_by_hand() -> None:
    forecast = np.array([5.0, 4.0, 4.0, 1.0, 0.0])
    actual = np.array([1.0, 3.0, 0.0, 2.0, 4.0])
    hits, best = hits_at(forecast, actual, np.array([1, 2, 3, 5]))
    # k=2: cell 0 plus one of the two cells tied at 4 (3 or 0 events): 1 + (3 + 0) / 2.
    assert hits.tolist() == [1.0, 2.5, 4.0, 10.0]
    assert best.tolist() == [4.0, 7.0, 9.0, 10.0]


def synthetic_city_csv(path: Path, *, weeks: int = 30, per_week: int = 90, seed: int = 7) -> pd.DataFrame:
    """A city around São Paulo (UTM zone 23S): clustered demand, near-repeats, a few broken rows."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = -23.55, -46.63
    centres = rng.normal(0, 2500, size=(6, 2))
    share = rng.dirichlet(np.ones(6))
    start = pd.Timestamp("2024-01-01", tz="America/Sao_Paulo")
    xy_parts, t_parts = [], []
    for week in range(weeks):
        n = rng.poisson(per_week)
        xy = centres[rng.choice(6, size=n, p=share)] + rng.normal(0, 350, size=(n, 2))
        t = start + pd.to_timedelta((week * 7 + rng.uniform(0, 7, n)) * 86400, unit="s")
        repeat = rng.choice(n, size=rng.binomial(n, 0.3))
        xy_parts += [xy, xy[repeat] + rng.normal(0, 15, (len(repeat), 2))]
        t_parts += [t, t[repeat] + pd.to_timedelta(rng.uniform(1, 10, len(repeat)), unit="D")]
    xy = np.vstack(xy_parts)
    times = pd.DatetimeIndex(np.concatenate([t.to_numpy() for t in t_parts])).tz_convert("America/Sao_Paulo")
    frame = pd.DataFrame(
        {
            "status": "closed",  # an extra column, ignored
            "id": [f"SP-{k}" for k in range(len(xy))],
            "created_at": times.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "category": rng.choice(["pothole", "graffiti", "noise", "trash"], len(xy)),
            "lat": (lat0 + xy[:, 1] / 110_540).astype(object),
            "lon": (lon0 + xy[:, 0] / (111_320 * np.cos(np.radians(lat0)))).astype(object),
        }
    )
    frame.loc[3, "lat"] = ""  # missing
    frame.loc[5, "lon"] = 999.0  # out of range
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture(scope="module")
def city_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("city") / "sao_paulo_311.csv"
    synthetic_city_csv(path)
    return path


def backtest_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HUEGIS, "hotspots", "backtest", *args], capture_output=True, text=True, timeout=300, cwd=PROJECT_DIR
    )


def test_cli_backtests_a_second_city_in_another_utm_zone(city_csv: Path) -> None:
    result = backtest_cli(
        "--events",
        str(city_csv),
        "--period",
        "week",
        "--cell-m",
        "400",
        "--origins",
        "6",
        "--tz",
        "America/Sao_Paulo",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["study"]["crs"] == "EPSG:32723", "UTM zone 23S from the events' centroid"
    # Drawn from the events before the first validation origin: no scored week shapes the study area.
    assert report["study"]["study_area"] == f"convex hull of the events before {report['settings']['first_validation']}"
    rows = report["study"]["rows"]
    assert rows["skipped_bad_coordinates"] == 2
    assert rows["used"] == rows["rows"] - 2 - rows["skipped_outside_training_hull"]
    # Validation takes the complete weeks left after 12 of warm-up and the 6 scored.
    assert report["settings"]["origins"] == 6
    assert report["settings"]["validation_origins"] == report["study"]["periods"] - 12 - 6
    assert {m["name"] for m in report["models"]} == MODELS
    for model in report["models"]:
        for f in FRACTIONS:
            metrics = model["metrics"][fraction_label(f)]
            assert 0 <= metrics["hit_rate"] <= 1 and metrics["pai"] >= 0 and 0 <= metrics["pei"] <= 1 + 1e-9
        assert model["mae"] >= 0 and model["rmse"] >= model["mae"] and model["bias"] is not None
    assert report["chosen"] in MODELS
    best = max(m["metrics"]["5%"]["pai"] for m in report["models"])
    assert next(m for m in report["models"] if m["name"] == report["chosen"])["metrics"]["5%"]["pai"] == best
    assert report["margin"]["best_baseline_pai"] > 0


def test_cli_prints_the_metrics_table(city_csv: Path, tmp_path: Path) -> None:
    boundary = tmp_path / "boundary.geojson"
    boundary.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[-46.72, -23.64], [-46.54, -23.64], [-46.54, -23.46], [-46.72, -23.46], [-46.72, -23.64]]
                    ],
                },
            }
        )
    )
    result = backtest_cli("--events", str(city_csv), "--boundary", str(boundary), "--period", "week", "--cell-m", "500",
                          "--origins", "4", "--validation", "5")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "EPSG:32723" in result.stdout and "study area: " + str(boundary) in result.stdout
    for name in MODELS:
        assert name in result.stdout
    assert "chosen on validation:" in result.stdout and "PAI" in result.stdout
    assert "validation: 5 origins" in result.stdout and "scored: 4 origins" in result.stdout


def test_cli_can_leave_gradient_boosting_out(city_csv: Path) -> None:
    result = backtest_cli("--events", str(city_csv), "--period", "week", "--cell-m", "400", "--origins", "4",
                          "--validation", "4", "--no-gbm", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {m["name"] for m in report["models"]} == MODELS - {"gbm"}
    assert (report["settings"]["validation_origins"], report["settings"]["origins"]) == (4, 4)


BAD_INPUT = {
    "missing-columns": (
        "id,created_at,category,latitude\n1,2024-01-01T00:00:00Z,x,1\n",
        [],
        "lacks the column(s) lat, lon",
    ),
    "no-rows": ("id,created_at,category,lat,lon\n", [], "no rows"),
    "unparsable-dates": (
        "id,created_at,category,lat,lon\n1,31/12/2024,x,10.0,10.0\n2,yesterday,x,10.1,10.1\n",
        [],
        "created_at is not an ISO 8601 time",
    ),
    "identical-points": (
        "id,created_at,category,lat,lon\n"
        + "".join(f"{k},2024-01-{k + 1:02d}T10:00:00Z,x,41.88,-87.63\n" for k in range(20)),
        [],
        "same point",
    ),
    "cell-size-zero": (
        "id,created_at,category,lat,lon\n1,2024-01-01T00:00:00Z,x,41.88,-87.63\n",
        ["--cell-m", "0"],
        "--cell-m must be a positive number",
    ),
    "cell-size-negative": (
        "id,created_at,category,lat,lon\n1,2024-01-01T00:00:00Z,x,41.88,-87.63\n",
        ["--cell-m", "-250"],
        "--cell-m must be a positive number",
    ),
    "all-coordinates-bad": (
        "id,created_at,category,lat,lon\n1,2024-01-01T00:00:00Z,x,,\n2,2024-01-02T00:00:00Z,x,95,0\n",
        [],
        "no usable rows",
    ),
    "too-short": (
        "id,created_at,category,lat,lon\n"
        + "".join(
            f"{k},2024-01-{k % 28 + 1:02d}T10:00:00Z,x,{41.8 + k * 0.001},{-87.6 - (k % 7) * 0.002}\n"
            for k in range(60)
        ),
        [],
        "needs at least",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_cli_refuses_bad_input_naming_the_problem(case: str, tmp_path: Path) -> None:
    text, extra, message = BAD_INPUT[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    result = backtest_cli("--events", str(path), *extra)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_cli_refuses_a_missing_file_and_a_bad_period(tmp_path: Path) -> None:
    result = backtest_cli("--events", str(tmp_path / "nope.csv"))
    assert result.returncode != 0 and "cannot read" in result.stderr
    result = backtest_cli("--events", str(tmp_path / "nope.csv"), "--period", "year")
    assert result.returncode != 0 and "period must be one of day, week, month" in result.stderr


def test_times_without_offset_are_local_to_the_given_zone(tmp_path: Path) -> None:
    path = tmp_path / "naive.csv"
    path.write_text(
        "id,created_at,category,lat,lon\n1,2024-03-01 08:00:00,x,16.46,107.58\n"
        "2,2024-03-01T08:00:00+00:00,x,16.47,107.59\n3,,x,16.47,107.59\n"
    )
    raw = read_events_csv(path, tz="Asia/Ho_Chi_Minh")
    assert [t.isoformat() for t in raw.times] == ["2024-03-01T01:00:00+00:00", "2024-03-01T08:00:00+00:00"]
    assert raw.counts["skipped_missing_time"] == 1
    with pytest.raises(InvalidInput, match="unknown time zone"):
        read_events_csv(path, tz="Mars/Olympus")


def moving_hotspots_csv(path: Path, *, weeks: int = 30, seed: int = 3) -> None:
    """A city (UTM 16N) with background demand and short-lived hot spots that start anywhere and fade in weeks."""
    rng = np.random.default_rng(seed)
    xs, days, spots = [], [], []
    for week in range(weeks):
        spots += [(rng.uniform(0, 8000, 2), week) for _ in range(rng.poisson(2))]
        n = rng.poisson(40)
        xs.append(rng.uniform(0, 8000, (n, 2)))
        days.append(week * 7 + rng.uniform(0, 7, n))
        for centre, born in spots:
            m = rng.poisson(12 * np.exp(-(week - born) / 3))
            xs.append(centre + rng.normal(0, 120, (m, 2)))
            days.append(week * 7 + rng.uniform(0, 7, m))
    xy, day = np.vstack(xs), np.concatenate(days)
    times = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(day * 86400, unit="s")
    pd.DataFrame(
        {
            "id": np.arange(len(day)),
            "created_at": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "category": "x",
            "lat": 41.80 + xy[:, 1] / 110_540,
            "lon": -87.70 + xy[:, 0] / (111_320 * np.cos(np.radians(41.8))),
        }
    ).to_csv(path, index=False)


def test_the_real_model_follows_hot_spots_that_come_and_go(tmp_path: Path) -> None:
    """Where hot spots flare up and fade, the model beats the long-run mean, the KDE and the last N periods."""
    path = tmp_path / "city.csv"
    moving_hotspots_csv(path)
    events = place_events(read_events_csv(path))
    assert events.epsg == 32616
    report = run_backtest(events, period="week", cell_m=250, origins=8, seed=0)
    assert {m["name"] for m in report.models} == MODELS
    for baseline in ("long_run_mean", "kde", "last_n"):
        assert report.pai("gbm") > report.pai(baseline), report.table()
