"""Publishing imported layers in the running app, without a restart.

Imports commit their layer's registry entry and ``NOTIFY huegis_layers`` in one transaction.
Each app process listens on that channel (one connection of its own, outside the pool) and,
on every notification and on every (re)connection, merges the database's imported layers into
the registry (``geo.imported.sync_registry``): the OGC fast path, tiles, TileJSON, maps and the
lists read the registry, and pygeoapi gets the layer as a resource of its running API object.

pygeoapi reads its configuration once, at import; its ``API`` object keeps it in
``api.config['resources']`` and reads that dict on every request (collections, items, HTML),
so a new resource is published by swapping in a new dict (never mutated in place: requests
iterate it in worker threads). Its provider caches each table's reflected model; a layer
recreated with other columns clears that cache.
"""

from __future__ import annotations

import asyncio
import copy
import io
import logging
import sys
from typing import Any

import psycopg
import yaml
from fastapi import FastAPI
from pygeoapi.provider.sql import get_table_model
from pygeoapi.util import yaml_load

from geo.imported import CHANNEL, sync_registry
from geo.ogc.config import collection
from geo.registry import REGISTRY
from geo.settings import Settings

log = logging.getLogger("huegis.publication")
RETRY_S = 5.0


async def publish_imported(app: FastAPI) -> tuple[set[str], set[str]]:
    """Bring this process's registry and pygeoapi in line with the database; (changed, removed) ids."""
    async with app.state.pool.connection() as conn:
        changed, removed = await sync_registry(conn)
    if changed or removed:
        publish_on_pygeoapi(changed, removed)
        log.info("imported layers published: %s; withdrawn: %s", sorted(changed) or "-", sorted(removed) or "-")
    return changed, removed


def publish_on_pygeoapi(changed: set[str], removed: set[str]) -> None:
    """Add, replace or remove pygeoapi resources in its running API object."""
    module = sys.modules.get("pygeoapi.starlette_app")
    if module is None:
        return  # pygeoapi is not mounted (e.g. a library user): nothing to update
    api = module.api_
    resources: dict[str, Any] = dict(api.config["resources"])
    if removed or (changed & resources.keys()):
        get_table_model.cache_clear()  # a dropped or recreated table must be reflected again
    for layer_id in removed:
        resources.pop(layer_id, None)
    for layer_id in changed:
        resources[layer_id] = resolved_resource(layer_id)
    api.config["resources"] = resources
    api.tpl_config["resources"] = copy.deepcopy(resources)


def resolved_resource(layer_id: str) -> dict[str, Any]:
    """A layer's pygeoapi resource with its ``${VAR:-default}`` values filled, as pygeoapi loads its YAML."""
    text = yaml.safe_dump(collection(REGISTRY[layer_id]), allow_unicode=True)
    return yaml_load(io.StringIO(text))


async def listen_for_layers(app: FastAPI, settings: Settings) -> None:
    """Publish imported layers at start and whenever an import commits; reconnect after an outage."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                await publish_imported(app)  # what changed while not listening
                async for _ in conn.notifies():
                    await publish_imported(app)
        except asyncio.CancelledError:
            raise
        except Exception:  # an outage must not end publication: try again shortly
            log.warning("listening for imported layers failed; retrying in %g s", RETRY_S, exc_info=True)
        await asyncio.sleep(RETRY_S)
