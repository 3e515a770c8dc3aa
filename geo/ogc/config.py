"""pygeoapi configuration rendered from the layer registry.

``pygeoapi-config.yml`` at the top of the repository is this module's output (``huegis ogc
config`` writes it; a test proves they agree). Database settings and the public URL stay
``${VAR:-default}`` placeholders that pygeoapi resolves from the environment at start-up.
"""

from __future__ import annotations

from typing import Any

import yaml

from geo.registry import LAYERS, LayerSpec

PROCESS_ID = "hotspot-forecast"  # the process of geo/ogc/processes.py

HEADER = """\
# Generated from geo/registry.py by `huegis ogc config`: edit the registry, not this file.
# ${VAR:-default} values come from the environment (the same variables as the app's settings).
"""

DB = {
    "host": "${HUEGIS_DB_HOST:-127.0.0.1}",
    "port": "${HUEGIS_DB_PORT:-5433}",
    "dbname": "${HUEGIS_DB_NAME:-huegis}",
    "user": "${HUEGIS_DB_USER:-huegis}",
    "password": "${HUEGIS_DB_PASSWORD:-huegis}",
    "search_path": ["public"],
}

# Jobs of OGC API - Processes (TinyDB, one file per database) and their results: under the data dir
# (Settings.export_pygeoapi_env exports the directory).
JOBS_DIR = "${HUEGIS_PYGEOAPI_JOBS:-.data/pygeoapi-jobs}"

# GDAL and QGIS page slowly at small page sizes: serve 1000 by default.
DEFAULT_ITEMS = 1000
MAX_ITEMS = 10000
# HTML item lists are read by people: a short page (1,000 polygons made a 56 MB page).
HTML_ITEMS = 50


def server_section() -> dict[str, Any]:
    return {
        "bind": {"host": "127.0.0.1", "port": 8000},
        "url": "${HUEGIS_PUBLIC_URL:-http://127.0.0.1:8000}/ogc",
        "mimetype": "application/json; charset=UTF-8",
        "encoding": "utf-8",
        "gzip": False,
        "languages": ["en-US", "vi-VN"],
        "pretty_print": False,
        # Asynchronous execution (``Prefer: respond-async``) and the job list need a manager that keeps jobs.
        "manager": {"name": "TinyDB", "connection": f"{JOBS_DIR}/jobs.json", "output_dir": f"{JOBS_DIR}/results"},
        # html_items (ours; pygeoapi reads the others): the items page's "(default)" limit option.
        "limits": {
            "default_items": DEFAULT_ITEMS,
            "max_items": MAX_ITEMS,
            "on_exceed": "throttle",
            "html_items": HTML_ITEMS,
        },
        "map": {
            # The app's own vector basemap; our templates draw it with Leaflet.VectorGrid, so no
            # external (raster) tile server is needed.
            "url": "${HUEGIS_PUBLIC_URL:-http://127.0.0.1:8000}/tiles/basemap/{z}/{x}/{y}.mvt",
            "attribution": "HueGIS basemap; GSHHG, GeoNames (CC BY 4.0)",
        },
        # Our copies of pygeoapi's templates and static files: local assets only (no CDN),
        # HueGIS branding. Relative to the working directory (the project, or /app in the image).
        "templates": {
            "path": "${HUEGIS_PYGEOAPI_TEMPLATES:-api/web/pygeoapi}/templates",
            "static": "${HUEGIS_PYGEOAPI_TEMPLATES:-api/web/pygeoapi}/static",
        },
    }


def metadata_section() -> dict[str, Any]:
    return {
        "identification": {
            "title": {"en": "HueGIS: Huế open city data", "vi": "HueGIS: dữ liệu mở Thành phố Huế"},
            "description": {
                "en": "Thematic, reference and operations layers of Thành phố Huế as OGC API Features",
                "vi": "Các lớp dữ liệu chuyên đề, nền và điều hành của Thành phố Huế theo chuẩn OGC API Features",
            },
            "keywords": {"en": ["Hue", "smart city", "GIS"], "vi": ["Huế", "đô thị thông minh", "GIS"]},
            "keywords_type": "theme",
            "terms_of_service": "https://creativecommons.org/licenses/by/4.0/",
            "url": "https://github.com/huegis/huegis",
        },
        "license": {
            "name": "Per layer: see each collection's description and ATTRIBUTION.md",
            "url": "https://creativecommons.org/licenses/by/4.0/",
        },
        "provider": {"name": "HueGIS", "url": "https://github.com/huegis/huegis"},
        "contact": {
            "name": "HueIOC GIS team",
            "position": "GIS administrator",
            "address": "Trung tâm Giám sát, điều hành đô thị thông minh",
            "city": "Huế",
            "stateorprovince": "Thành phố Huế",
            "postalcode": "49000",
            "country": "Viet Nam",
            "phone": "+84 1900 1075",
            "email": "gis@huegis.invalid",
            "url": "https://github.com/huegis/huegis",
            "hours": "Mo-Fr 07:30-17:00 ICT",
            "instructions": "During office hours",
            "role": "pointOfContact",
        },
    }


def collection(spec: LayerSpec) -> dict[str, Any]:
    """One pygeoapi resource (an OGC API Features collection) for a layer."""
    provider: dict[str, Any] = {
        "type": "feature",
        "name": "geo.ogc.provider.PublishedProvider",
        "data": dict(DB),
        "id_field": spec.id_field,
        "table": spec.table_name,
        "geom_field": "geom",
        "properties": list(spec.fields),
    }
    if spec.time_field:
        provider["time_field"] = spec.time_field
    if spec.time_end_fields:
        # The stock provider compares one time column; an interval layer answers "active at t".
        provider["name"] = "geo.ogc.provider.ActiveIntervalProvider"
        provider["time_end_fields"] = list(spec.time_end_fields)
    return {
        "type": "collection",
        "title": {"en": spec.title, "vi": spec.title_vi},
        "description": f"{spec.description} Source: {spec.source}. Licence: {spec.licence}."
        + (" Synthetic data." if spec.synthetic == "yes" else ""),
        "keywords": list(spec.keywords),
        "links": [],
        "extents": {
            "spatial": {"bbox": list(spec.bbox), "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        },
        "providers": [provider],
    }


def process(processor: str) -> dict[str, Any]:
    """One pygeoapi process resource (OGC API - Processes); its processor reads the platform's database."""
    connection = {key: value for key, value in DB.items() if key != "search_path"}
    return {"type": "process", "processor": {"name": processor, "data": connection}}


def render_pygeoapi_config(layers: tuple[LayerSpec, ...] = LAYERS) -> str:
    """The pygeoapi YAML for every registry layer and the hot-spot forecast process."""
    config = {
        "server": server_section(),
        "logging": {"level": "ERROR"},
        "metadata": metadata_section(),
        "resources": {
            **{spec.id: collection(spec) for spec in layers},
            PROCESS_ID: process("geo.ogc.processes.HotspotForecastProcessor"),
        },
    }
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return HEADER + body
