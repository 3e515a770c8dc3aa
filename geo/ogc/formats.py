"""Output formats of the OGC API we adjust: CSV with each feature's id (after a point's x, y).

pygeoapi's CSV formatter writes the properties only, so a CSV row could not be traced back to its
feature (``/items/{id}``) nor joined with the GeoJSON. ``use_csv_with_ids`` puts ours in its place:
pygeoapi looks the CSV formatter up by name in its plugin registry at every request.
"""

from __future__ import annotations

from typing import Any

from pygeoapi.formatter.csv_ import CSVFormatter
from pygeoapi.plugin import PLUGINS


class CSVWithIds(CSVFormatter):
    """pygeoapi's CSV with the feature's id as the first property, under the layer's id field name."""

    def write(self, options: dict | None = None, data: dict | None = None) -> Any:
        options = options or {}
        id_field = (options.get("provider_def") or {}).get("id_field") or "id"
        for feature in (data or {}).get("features", []):
            feature["properties"] = {id_field: feature.get("id"), **(feature.get("properties") or {})}
        return super().write(options=options, data=data)


def use_csv_with_ids() -> None:
    """Make pygeoapi's ``f=csv`` answers use ``CSVWithIds`` (idempotent)."""
    PLUGINS["formatter"]["CSV"] = f"{CSVWithIds.__module__}.{CSVWithIds.__qualname__}"
