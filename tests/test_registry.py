"""The layer registry, the tables and pygeoapi-config.yml agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from geo.ogc.config import PROCESS_ID, render_pygeoapi_config
from geo.registry import LAYERS, REGISTRY
from geo.settings import PROJECT_DIR

CONFIG = PROJECT_DIR / "pygeoapi-config.yml"


def test_one_id_per_layer_everywhere() -> None:
    for spec in LAYERS:
        assert spec.id == spec.table_name
        assert set(spec.fields) <= set(spec.table.columns.keys()), spec.id
        assert "id" in spec.table.columns and "geom" in spec.table.columns


def test_config_file_is_the_registry_rendered() -> None:
    assert CONFIG.read_text() == render_pygeoapi_config(), "run `huegis ogc config` after editing the registry"
    resources = yaml.safe_load(CONFIG.read_text())["resources"]
    collections = {k: r for k, r in resources.items() if r["type"] == "collection"}
    assert list(collections) == list(REGISTRY)
    # Besides the layers, one process: the hot-spot forecast (OGC API - Processes), reading the same database.
    processes = {k: r for k, r in resources.items() if r["type"] == "process"}
    assert list(processes) == [PROCESS_ID]
    assert processes[PROCESS_ID]["processor"]["data"]["host"].startswith("${HUEGIS_DB_HOST:-")
    for layer_id, resource in collections.items():
        provider = resource["providers"][0]
        assert provider["table"] == layer_id
        assert provider["properties"] == list(REGISTRY[layer_id].fields)
        assert provider["data"]["host"].startswith("${HUEGIS_DB_HOST:-")


def test_pygeoapi_validates_the_config() -> None:
    pygeoapi = Path(sys.executable).with_name("pygeoapi")
    result = subprocess.run([str(pygeoapi), "config", "validate", "-c", str(CONFIG)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout
