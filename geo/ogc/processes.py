"""The hot-spot forecast as an OGC API - Processes process (``hotspot-forecast``) served by pygeoapi.

A GIS analyst (QGIS, OWSLib, a notebook) asks where next period's citizen reports will come from,
for the city or a small area: the process reads the reports and Huế's land through
:mod:`geo.analytics.hotspot_run`, fits a forecast model of :mod:`geo.analytics.forecast` on every
complete period and answers with the flagged cells (the top ``top_share`` of the area) as GeoJSON in
CRS84. By default the model is the one the latest hot-spot run chose (with its tuned
hyper-parameters when the run used the same period and cell size), else empirical Bayes.

The inputs are checked by :func:`parse_inputs`, which the API layer also calls before handing the
request to pygeoapi (and which decides whether an area is small enough to run synchronously).
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg.conninfo import make_conninfo
from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError
from shapely.geometry import box

from geo.analytics.events import EventSet, place_events
from geo.analytics.forecast import (
    HORIZONS,
    Blend,
    ForecastModel,
    build_space_time,
    forecast_next,
    model_families,
    one_thread,
)
from geo.analytics.grid import PERIODS, build_grid, check_period, hex_area_m2
from geo.analytics.hotspot_run import (
    HUE_AREA_NAME,
    check_cell_m,
    forecast_cells,
    get_run,
    read_report_events,
    read_study_area,
)
from geo.errors import HueGISError, InvalidInput, NotFound
from geo.ogc.config import PROCESS_ID
from geo.registry import CITY_BBOX

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MODELS = ("last_period", "last_n", "long_run_mean", "kde", "kde_long", "eb", "etas", "gbm", "blend")
DEFAULT_MODEL = "eb"  # no run yet: the shrunk rates are quick and beat the naive baselines on real data
# Without the latest run's tuning, the middle of each model's grid (bandwidth d, half-life a long window, κ 4).
DEFAULT_VARIANT = {"kde_long": 1, "eb": 2, "etas": 1}
# A synchronous request holds an HTTP connection and a server thread: more hexagons than this (in the
# bbox, the city's extent by default) must run as a job. 2,000 cells of 250 m cover 325 km².
MAX_SYNC_CELLS = 2_000
INPUTS = ("bbox", "period", "cell_m", "category", "model", "top_share")

PROCESS_METADATA: dict[str, Any] = {
    "version": "0.1.0",
    "id": PROCESS_ID,
    "title": {"en": "Hot-spot forecast of citizen reports", "vi": "Dự báo điểm nóng phản ánh của người dân"},
    "description": {
        "en": "Where next period's citizen reports are expected in Huế: a forecast model fitted on every complete "
        "period of the reports, answered as the hexagons of the highest expected counts (rank 1 = highest) in "
        "GeoJSON (CRS84). Runs synchronously for a small area and as a job for the city.",
        "vi": "Nơi dự kiến có phản ánh của người dân trong kỳ tới tại Huế: mô hình dự báo khớp trên mọi kỳ đầy đủ, "
        "trả về các ô lục giác có số phản ánh kỳ vọng cao nhất (hạng 1 = cao nhất) dạng GeoJSON (CRS84).",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["hot spots", "forecast", "citizen reports", "Huế"],
    "links": [
        {
            "type": "text/html",
            "rel": "about",
            "title": "Forecast models and how they are chosen",
            "href": "https://github.com/huegis/huegis/blob/main/docs/hotspots.md",
            "hreflang": "en-US",
        }
    ],
    "inputs": {
        "bbox": {
            "title": "Area",
            "description": "minimum longitude, minimum latitude, maximum longitude, maximum latitude (CRS84) of an "
            f"area within Huế; default the whole city. More than {MAX_SYNC_CELLS:,} hexagons run only as a job "
            "(Prefer: respond-async).",
            "schema": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "period": {
            "title": "Period",
            "description": "Forecast period: day, week (from Monday, Huế time) or month",
            "schema": {"type": "string", "enum": list(PERIODS), "default": "week"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "cell_m": {
            "title": "Hexagon edge (m)",
            "description": "Edge of the hexagons in metres (a cell covers 2.598·cell_m² m²)",
            "schema": {"type": "number", "minimum": 10, "maximum": 20000, "default": 250},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "category": {
            "title": "Report category",
            "description": "Only reports of this category (a code of /api/categories); default all",
            "schema": {"type": "string"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "model": {
            "title": "Model",
            "description": "Forecast model; default the one the latest hot-spot run chose, else eb (empirical Bayes)",
            "schema": {"type": "string", "enum": list(MODELS)},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "top_share": {
            "title": "Flagged share of the area",
            "description": "Cells returned: the highest-ranked share of the area's hexagons (0 < top_share ≤ 1)",
            "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.2},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
    },
    "outputs": {
        "forecast": {
            "title": "Flagged cells",
            "description": "FeatureCollection of hexagons (CRS84) with rank, expected count and top_share, and the "
            "model, the fitted window and the forecast period as members",
            "schema": {"type": "object", "contentMediaType": "application/geo+json"},
        }
    },
    "example": {"inputs": {"bbox": [107.57, 16.455, 107.6, 16.48], "period": "week", "cell_m": 250, "top_share": 0.2}},
}


@dataclass(frozen=True)
class ForecastInputs:
    """The process's inputs, checked."""

    bbox: tuple[float, float, float, float] | None = None
    period: str = "week"
    cell_m: float = 250.0
    category: str | None = None
    model: str | None = None
    top_share: float = 0.2

    def cells(self) -> int:
        """About how many hexagons the area (the bbox, or the city's extent) holds."""
        west, south, east, north = self.bbox or CITY_BBOX
        metres_per_degree = 111_320.0
        width = (east - west) * metres_per_degree * math.cos(math.radians((south + north) / 2))
        height = (north - south) * metres_per_degree
        return math.ceil(width * height / hex_area_m2(self.cell_m))

    def check_sync(self) -> None:
        """InvalidInput when the area is too large to answer while the client waits."""
        cells = self.cells()
        if cells > MAX_SYNC_CELLS:
            where = "the bbox" if self.bbox else "the whole city (no bbox)"
            raise InvalidInput(
                f"bbox: {where} holds about {cells:,} hexagons of {self.cell_m:g} m, more than the {MAX_SYNC_CELLS:,} "
                "of a synchronous request: execute asynchronously (header 'Prefer: respond-async') and read the job, "
                "or give a smaller bbox or larger cells"
            )


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{name} must be a number, got {value!r}")
    return float(value)


def _bbox(value: Any) -> tuple[float, float, float, float]:
    """A bbox given as four numbers or as OGC's bounding-box value ``{"bbox": [...], "crs": ...}``."""
    if isinstance(value, dict):
        crs = value.get("crs", CRS84)
        if crs not in (CRS84, "CRS84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84h"):
            raise InvalidInput(f"bbox: crs {crs!r} is not offered; give longitude, latitude (CRS84)")
        value = value.get("bbox")
    if not isinstance(value, list) or len(value) != 4:
        raise InvalidInput(f"bbox must be [min lon, min lat, max lon, max lat], got {value!r}")
    west, south, east, north = (_number("bbox", v) for v in value)
    if not (west < east and south < north):
        raise InvalidInput(f"bbox: the minimum must be below the maximum on both axes, got {value!r}")
    city_w, city_s, city_e, city_n = CITY_BBOX
    if east <= city_w or west >= city_e or north <= city_s or south >= city_n:
        raise InvalidInput(f"bbox {value!r} lies outside Huế ({', '.join(f'{c:g}' for c in CITY_BBOX)})")
    return west, south, east, north


def parse_inputs(inputs: Any) -> ForecastInputs:
    """The checked inputs of an execution request; InvalidInput naming the first bad one."""
    if inputs is None:
        return ForecastInputs()
    if not isinstance(inputs, dict):
        raise InvalidInput(f"inputs must be a JSON object, got {type(inputs).__name__}")
    unknown = sorted(set(inputs) - set(INPUTS))
    if unknown:
        raise InvalidInput(f"unknown input(s) {', '.join(unknown)}; the process takes {', '.join(INPUTS)}")
    values: dict[str, Any] = {}
    if inputs.get("bbox") is not None:
        values["bbox"] = _bbox(inputs["bbox"])
    if "period" in inputs:
        if inputs["period"] not in PERIODS:
            raise InvalidInput(f"period must be one of {', '.join(PERIODS)}, got {inputs['period']!r}")
        values["period"] = inputs["period"]
    if "cell_m" in inputs:
        values["cell_m"] = _number("cell_m", inputs["cell_m"])
        check_cell_m(values["cell_m"])
    if inputs.get("category") is not None:
        if not isinstance(inputs["category"], str) or not inputs["category"].strip():
            raise InvalidInput(f"category must be a category code, got {inputs['category']!r}")
        values["category"] = inputs["category"].strip()
    if inputs.get("model") is not None:
        if inputs["model"] not in MODELS:
            raise InvalidInput(f"model must be one of {', '.join(MODELS)}, got {inputs['model']!r}")
        values["model"] = inputs["model"]
    if "top_share" in inputs:
        share = _number("top_share", inputs["top_share"])
        if not 0 < share <= 1:
            raise InvalidInput(f"top_share must be above 0 and at most 1, got {inputs['top_share']!r}")
        values["top_share"] = share
    return ForecastInputs(**values)


# --- the model ------------------------------------------------------------------------------------


def _variant(name: str, period: str, cell_m: float, params: dict[str, Any] | None) -> ForecastModel:
    """Model ``name`` with the given tuned hyper-parameters when its grid holds them, else its default variant."""
    family = next(f for f in model_families(check_period(period), cell_m) if f.name == name)
    if params is not None:
        for variant in family.variants:
            if variant.params == params:
                return variant
    return family.variants[DEFAULT_VARIANT.get(name, 0)]


def choose_model(inputs: ForecastInputs, run: dict[str, Any] | None) -> tuple[ForecastModel, str]:
    """The model to fit and where it comes from: asked for, the latest run's choice, or the default."""
    tuned: dict[str, Any] = {}
    if run is None:
        name = inputs.model or DEFAULT_MODEL
        source = "requested" if inputs.model else "the default (no hot-spot run yet)"
    else:
        name = inputs.model or run["chosen_model"]
        source = "requested" if inputs.model else f"chosen by hot-spot run {run['id']}"
        if run["period"] == inputs.period and float(run["cell_m"]) == inputs.cell_m:
            tuned = {m["name"]: m.get("params") for m in run["backtest"].get("models", [])}
        if name in tuned:
            source += f", hyper-parameters tuned by run {run['id']}"
        else:
            source += f", default hyper-parameters (run {run['id']} tuned {run['period']}s of {run['cell_m']:g} m)"
    if name != "blend":
        return _variant(name, inputs.period, inputs.cell_m, tuned.get(name)), source
    weights = tuned.get("blend")
    if not weights:
        raise InvalidInput(
            f"model: blend mixes the models with the weights a hot-spot run fitted on {inputs.period}s of "
            f"{inputs.cell_m:g} m cells, and there is none; choose another model or run the hot spots first"
        )
    components = [_variant(m, inputs.period, inputs.cell_m, tuned.get(m)) for m in weights]
    return Blend(components, np.array(list(weights.values()), dtype=np.float64)), source


# --- the forecast ---------------------------------------------------------------------------------


def forecast(events: EventSet, inputs: ForecastInputs, model: ForecastModel, source: str) -> dict[str, Any]:
    """The flagged cells of next period's forecast as a GeoJSON FeatureCollection (CRS84) with what made it."""
    period = check_period(inputs.period)
    grid = build_grid(events.area, inputs.cell_m, events.epsg)
    data = build_space_time(events, grid, period, max_periods=HORIZONS[period].max_history)
    if data.n_periods < 2:
        raise InvalidInput(f"the reports cover {data.n_periods} complete {period}s; a forecast needs at least 2")
    with one_thread():
        expected = forecast_next(data, model)
    n = data.n_periods
    cells = forecast_cells(grid, grid.polygons_wgs84(), expected, period=period, model=model.name,
                           start=data.axis.start_of(n), end=data.axis.end_of(n), share=inputs.top_share)  # fmt: skip
    cells = cells.sort_values("rank")
    geometries = shapely.to_geojson(shapely.set_precision(cells["geom"].to_numpy(), 1e-7))
    features = [
        {
            "type": "Feature",
            "id": f"{row.cell_i}_{row.cell_j}",
            "geometry": json.loads(geometry),
            "properties": {
                "cell_i": int(row.cell_i),
                "cell_j": int(row.cell_j),
                "rank": int(row.rank),
                "expected": round(float(row.expected), 6),
                "top_share": round(float(row.top_share), 6),
            },
        }
        for row, geometry in zip(cells.itertuples(index=False), geometries, strict=True)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "model": {"name": model.name, "description": model.description, "params": model.params, "source": source},
        "window": {
            "first_period": data.axis.label(0),
            "last_period": data.axis.label(n - 1),
            "periods": n,
            "events": int(data.counts.sum()),
        },
        "forecast_period": {
            "start": data.axis.start_of(n).date().isoformat(),
            "end": data.axis.end_of(n).date().isoformat(),
        },
        "period": period,
        "cell_m": inputs.cell_m,
        "category": inputs.category,
        "bbox": list(inputs.bbox) if inputs.bbox else None,
        "cells": grid.n,
        "flagged": len(features),
        "top_share": inputs.top_share,
        "expected_total": round(float(expected.sum()), 3),
    }


async def read_inputs(conn: psycopg.AsyncConnection, inputs: ForecastInputs) -> tuple[EventSet, ForecastModel, str]:
    """The reports placed in Huế's land (within the bbox) and the model to fit."""
    raw, _ = await read_report_events(conn, category=inputs.category)
    area = await read_study_area(conn)
    name = HUE_AREA_NAME
    if inputs.bbox is not None:
        area = area.intersection(box(*inputs.bbox))
        if area.is_empty:
            raise InvalidInput(f"bbox {list(inputs.bbox)} holds none of Huế's land")
        name = f"{HUE_AREA_NAME} within the bbox"
    events = place_events(raw, boundary=area, boundary_name=name)
    try:
        run: dict[str, Any] | None = await get_run(conn)
    except NotFound:
        run = None
    model, source = choose_model(inputs, run)
    return events, model, source


async def _read(conninfo: str, inputs: ForecastInputs) -> tuple[EventSet, ForecastModel, str]:
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        return await read_inputs(conn, inputs)


def run_forecast(conninfo: str, inputs: ForecastInputs) -> dict[str, Any]:
    """Read and forecast, from a thread without a running event loop (pygeoapi's workers)."""
    events, model, source = asyncio.run(_read(conninfo, inputs))
    return forecast(events, inputs, model, source)


class HotspotForecastProcessor(BaseProcessor):
    """pygeoapi processor of ``hotspot-forecast``; the database comes from the process's ``data`` (the config)."""

    def __init__(self, processor_def: dict[str, Any]) -> None:
        super().__init__(processor_def, PROCESS_METADATA)
        self.conninfo = make_conninfo(**{k: str(v) for k, v in processor_def.get("data", {}).items()})

    def execute(self, data: dict[str, Any], outputs: dict[str, Any] | None = None) -> tuple[str, Any]:
        try:
            return "application/json", run_forecast(self.conninfo, parse_inputs(data))
        except HueGISError as exc:  # pygeoapi answers a failed execution with 400 and this message
            raise ProcessorExecuteError(user_msg=str(exc)) from None

    def __repr__(self) -> str:
        return f"<HotspotForecastProcessor> {self.name}"
