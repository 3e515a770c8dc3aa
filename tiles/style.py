"""The MapLibre style of the basemap, and paint rules for drawing any registry layer.

No ``glyphs`` URL: MapLibre GL JS 6 draws label glyphs locally from the browser's fonts when a
style names none, so labels need no font server (and nothing leaves the intranet).
"""

from __future__ import annotations

from typing import Any, Literal

from geo.registry import LayerSpec, get_layer
from tiles.grid import MAX_ZOOM, MIN_ZOOM
from tiles.metadata import tile_url
from tiles.vector import BASEMAP

FONT = ["Noto Sans Regular"]
LAND = "#f3efe6"
WATER = "#a9d3e8"
# Tiles are fetched as far as the sea is drawn, past the city: the sea never stops at a tile's edge.
# Pages keep the view inside these bounds (MapLibre's maxBounds), so no edge of the data shows.
SOURCE_BOUNDS = get_layer("water_areas").bbox


def basemap_style(base: str, lang: Literal["vi", "en"] = "vi", *, pmtiles_url: str | None = None) -> dict[str, Any]:
    """A MapLibre GL style (spec v8) drawing our basemap tiles, labels in ``lang``.

    ``pmtiles_url``: read the basemap from a PMTiles archive on a static host instead
    (``huegis tiles export basemap``; the page registers the ``pmtiles://`` protocol).
    """
    place_name = ["coalesce", ["get", "name_vi"], ["get", "name"]] if lang == "vi" else ["get", "name"]
    source = "basemap"
    tiles: dict[str, Any] = (
        {"url": f"pmtiles://{pmtiles_url}"}
        if pmtiles_url
        else {"tiles": [tile_url(base, BASEMAP)], "minzoom": MIN_ZOOM, "maxzoom": MAX_ZOOM}
    )
    return {
        "version": 8,
        "name": "HueGIS basemap" if lang == "en" else "Bản đồ nền HueGIS",
        "metadata": {"huegis:lang": lang},
        "center": [107.585, 16.463],
        "zoom": 11,
        "sources": {
            source: {
                "type": "vector",
                **tiles,
                "bounds": list(SOURCE_BOUNDS),
                "attribution": BASEMAP.attribution,
            }
        },
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": "#e9eef2"}},
            {
                "id": "land",
                "type": "fill",
                "source": source,
                "source-layer": "admin_units",
                "filter": ["==", ["get", "level"], "city"],
                "paint": {"fill-color": LAND},
            },
            {
                "id": "water",
                "type": "fill",
                "source": source,
                "source-layer": "water_areas",
                "paint": {"fill-color": WATER},
            },
            {
                "id": "ward-boundaries",
                "type": "line",
                "source": source,
                "source-layer": "admin_units",
                "filter": ["!=", ["get", "level"], "city"],
                "paint": {
                    "line-color": "#9c89b8",
                    "line-width": ["interpolate", ["linear"], ["zoom"], 8, 0.4, 14, 1.4],
                    "line-dasharray": [3, 2],
                },
            },
            {
                "id": "city-boundary",
                "type": "line",
                "source": source,
                "source-layer": "admin_units",
                "filter": ["==", ["get", "level"], "city"],
                "paint": {"line-color": "#5b2c6f", "line-width": 2},
            },
            {
                "id": "rivers",
                "type": "line",
                "source": source,
                "source-layer": "rivers",
                "paint": {"line-color": "#6fb1d6", "line-width": ["interpolate", ["linear"], ["zoom"], 8, 1, 14, 3]},
            },
            {
                "id": "railway",
                "type": "line",
                "source": source,
                "source-layer": "roads",
                "filter": ["==", ["get", "road_class"], "railway"],
                "paint": {"line-color": "#6d6d6d", "line-width": 1.5, "line-dasharray": [4, 3]},
            },
            {
                "id": "roads",
                "type": "line",
                "source": source,
                "source-layer": "roads",
                "filter": ["!=", ["get", "road_class"], "railway"],
                "layout": {"line-cap": "round", "line-join": "round"},
                "paint": {
                    "line-color": ["match", ["get", "road_class"], "national", "#e8923a", "#f2c36b"],
                    "line-width": ["interpolate", ["linear"], ["zoom"], 8, 1, 14, 4],
                },
            },
            {
                "id": "places",
                "type": "circle",
                "source": source,
                "source-layer": "places",
                "minzoom": 11,
                "paint": {"circle-radius": 2, "circle-color": "#7a7a7a"},
            },
            {
                "id": "place-labels",
                "type": "symbol",
                "source": source,
                "source-layer": "places",
                "minzoom": 13,
                "layout": {
                    "text-field": place_name,
                    "text-font": FONT,
                    "text-size": 11,
                    "text-offset": [0, 0.8],
                    "text-anchor": "top",
                },
                "paint": {"text-color": "#555555", "text-halo-color": "#ffffff", "text-halo-width": 1},
            },
            {
                "id": "ward-labels",
                "type": "symbol",
                "source": source,
                "source-layer": "admin_labels",
                "minzoom": 9,
                "layout": {"text-field": ["get", "name"], "text-font": FONT, "text-size": 12},
                "paint": {"text-color": "#4a3a5c", "text-halo-color": "#ffffff", "text-halo-width": 1.5},
            },
        ],
    }


def layer_paint(spec: LayerSpec) -> list[dict[str, Any]]:
    """MapLibre layers drawing one registry layer from its own tiles in the registry's style."""
    style = spec.style
    common = {"source": spec.id, "source-layer": spec.id}
    if spec.geometry_type in ("Point", "MultiPoint"):
        return [
            {
                "id": f"{spec.id}-points",
                "type": "circle",
                **common,
                "paint": {
                    "circle-radius": style.radius,
                    "circle-color": style.color,
                    "circle-stroke-color": "#ffffff",
                    "circle-stroke-width": 1,
                },
            }
        ]
    line = {
        "id": f"{spec.id}-lines",
        "type": "line",
        **common,
        "paint": {"line-color": style.color, "line-width": style.weight},
    }
    if spec.geometry_type == "MultiPolygon":
        fill = {
            "id": f"{spec.id}-fill",
            "type": "fill",
            **common,
            "paint": {"fill-color": style.color, "fill-opacity": style.fill_opacity},
        }
        return [fill, line]
    return [line]
