"""Planners' web maps: folium (Leaflet) pages generated from the layer registry.

Every map draws a small basemap (water, ward boundaries, rivers, roads) and its layers from
GeoJSON that PostGIS serialises, so a page, once loaded, needs nothing else from the server: the
same HTML is served at ``/maps/{name}`` and written as a standalone file by ``huegis maps
export``. Leaflet, Bootstrap and jQuery come from ``Assets.base`` (the app's vendored copies, or
a ``vendor/`` folder beside exported files), never from a CDN. No web imports here.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import folium
from branca.colormap import LinearColormap
from branca.element import Element, Figure, MacroElement, Template
from folium.map import Layer
from folium.utilities import JsCode
from psycopg import AsyncConnection, sql

from geo.db import load_sql
from geo.errors import NotFound
from geo.registry import BUILT_IN, LAYERS, REGISTRY, LayerSpec, get_layer
from geo.settings import PROJECT_DIR

Lang = Literal["vi", "en"]
VENDOR_DIR = PROJECT_DIR / "api" / "web" / "static" / "vendor"
CENTRE = (16.43, 107.6)  # lat, lon: between the Imperial City and the lagoon
# Analytics outputs drawn when their tables exist (the engines that fill them come later).
ANALYTICS_TABLES = ("hotspot_cells", "forecast_cells")
TOLERANCE_DEG = 0.0002  # ~20 m: basemap and ward outlines, invisible at city zooms
MIN_ZOOM = 8  # the whole province and its sea on a wide screen, still inside the sea's extent
DETAIL_TOLERANCE_DEG = 0.00003  # ~3 m: thematic polygons and lines (planning zones: 140k → 39k vertices)
# Too many features to embed beside the rest (8,010 parcels, 5,484 permits): each has its own map.
DETAIL_LAYERS = ("land_parcels", "construction_permits")
TOOLTIP_FIELDS = 6
# Rows a map draws (default: all): the warning zones in force now, not every past storm's.
ROWS = {"disaster_zones": "src.onset <= now() AND now() < src.expires AND src.cancelled_at IS NULL"}


@dataclass(frozen=True)
class Assets:
    """Where a map page loads its libraries from: a URL prefix or a relative folder."""

    base: str = "/static/vendor"

    def js(self) -> list[tuple[str, str]]:
        return [
            ("leaflet", f"{self.base}/leaflet/leaflet.js"),
            ("jquery", f"{self.base}/jquery/jquery.min.js"),
            ("bootstrap", f"{self.base}/bootstrap/bootstrap.bundle.min.js"),
        ]

    def css(self) -> list[tuple[str, str]]:
        return [
            ("leaflet_css", f"{self.base}/leaflet/leaflet.css"),
            ("bootstrap_css", f"{self.base}/bootstrap/bootstrap.min.css"),
        ]


# folium's own defaults we do not use (icon fonts for awesome markers): dropped, not vendored.
UNUSED_ASSETS = {"awesome_markers", "glyphicons_css", "awesome_markers_font_css", "awesome_markers_css",
                 "awesome_rotate_css"}  # fmt: skip
EXTERNAL_ASSET = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", re.I)


@dataclass(frozen=True)
class MapSpec:
    """One planners' map: its overlays and thematic extras."""

    name: str
    title: str
    title_vi: str
    description: str
    description_vi: str
    layers: tuple[str, ...]
    density: bool = False  # population density choropleth by ward (until the KPI table lands)
    analytics: bool = False  # hotspot and forecast cells, when their tables exist
    hidden: tuple[str, ...] = field(default=())  # overlays listed in the control but off at first
    # Only these overlays are on at first (None: all): a page with everything drawn at once is slow
    # to open and hard to read; the layer control switches the others on.
    shown: tuple[str, ...] | None = None

    def sources(self) -> tuple[str, ...]:
        """Tables the map reads (its page changes when one of them does)."""
        return tuple(sorted({*BASEMAP_LAYERS, *self.layers}))

    def attributions(self) -> list[str]:
        """The credits of every layer the map draws (the registry's), basemap first, each once."""
        drawn = (*BASEMAP_LAYERS, *self.overlays())
        return list(dict.fromkeys(REGISTRY[layer].attribution for layer in drawn if layer in REGISTRY))

    def shows(self, overlay: str) -> bool:
        """Whether ``overlay`` is on when the page opens."""
        return overlay not in self.hidden and (self.shown is None or overlay in self.shown)

    def overlays(self) -> tuple[str, ...]:
        """Every overlay the map may draw: its layers, then the analytics tables."""
        return (*self.layers, *(ANALYTICS_TABLES if self.analytics else ()))


def _thematic() -> tuple[str, ...]:
    return tuple(spec.id for spec in LAYERS if spec.group == "thematic")


def _layer_map(spec: LayerSpec) -> MapSpec:
    return MapSpec(
        name=spec.id,
        title=spec.title,
        title_vi=spec.title_vi,
        description=spec.description,
        description_vi=spec.title_vi,
        layers=(spec.id,),
    )


MAPS: dict[str, MapSpec] = {
    m.name: m
    for m in (
        MapSpec(
            name="overview",
            title="Planners' overview",
            title_vi="Bản đồ tổng hợp quy hoạch",
            description="Thematic layers, population density by ward, disaster zones and analytics cells "
            "(land parcels and permits have maps of their own).",
            description_vi="Các lớp chuyên đề, mật độ dân số theo xã/phường, vùng thiên tai và ô phân tích "
            "(thửa đất và giấy phép xây dựng có bản đồ riêng).",
            layers=(*(layer for layer in _thematic() if layer not in DETAIL_LAYERS), "disaster_zones"),
            density=True,
            analytics=True,
            shown=("density", "disaster_zones", "health_facilities", "schools"),
        ),
        MapSpec(
            name="density",
            title="Population density by ward",
            title_vi="Mật độ dân số theo xã/phường",
            description="Inhabitants per km² of each ward and commune (2025 population, official areas).",
            description_vi="Số dân trên mỗi km² của từng xã, phường (dân số 2025).",
            layers=(),
            density=True,
        ),
        MapSpec(
            name="disasters",
            title="Disaster zones and facilities",
            title_vi="Vùng thiên tai và cơ sở thiết yếu",
            description="Hazard zones with the health facilities and schools that may be exposed, and the dams.",
            description_vi="Vùng cảnh báo thiên tai cùng cơ sở y tế, trường học có thể bị ảnh hưởng và các thủy điện.",
            layers=("disaster_zones", "health_facilities", "schools", "dams"),
            analytics=True,
        ),
        *(_layer_map(spec) for spec in LAYERS if spec.group == "thematic"),
    )
}


def all_maps() -> list[MapSpec]:
    """Every web map now: the built-in ones, then one per layer imported from the city's files."""
    return [*MAPS.values(), *(_layer_map(spec) for spec in REGISTRY.values() if spec.id not in BUILT_IN)]


def get_map(name: str) -> MapSpec:
    """The map named in a URL or on the command line; ``NotFound`` lists the known ones."""
    if name in MAPS:
        return MAPS[name]
    if name in REGISTRY and name not in BUILT_IN:
        return _layer_map(REGISTRY[name])
    raise NotFound(f"unknown map {name!r}; maps: {', '.join(m.name for m in all_maps())}")


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deferred:
    """An overlay the page fetches when the planner switches it on: what the page says before that."""

    features: int
    columns: tuple[str, ...]


@dataclass
class MapData:
    """GeoJSON text of everything one map draws, read from PostGIS."""

    basemap: dict[str, str]
    layers: dict[str, str]
    density: str | None = None
    analytics: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, Deferred] = field(default_factory=dict)  # hidden overlays, not read (``defer``)


BASEMAP_LAYERS: dict[str, tuple[str, ...]] = {
    "water_areas": ("name", "water_type"),
    "admin_units": ("code", "name", "level"),
    "rivers": ("name",),
    "roads": ("ref", "name", "road_class"),
}


async def fetch_map_data(conn: AsyncConnection, spec: MapSpec, *, defer: bool = False) -> MapData:
    """Read every layer of the map as GeoJSON (one statement per layer); with ``defer``, the overlays
    hidden at first are only counted (the page fetches them from ``overlay_geojson`` when needed)."""
    basemap = {
        layer_id: await _features(conn, layer_id, fields, TOLERANCE_DEG) for layer_id, fields in BASEMAP_LAYERS.items()
    }
    data = MapData(basemap=basemap, layers={})
    if spec.density:
        async with conn.cursor() as cur:
            await cur.execute(load_sql("maps/ward_density"), {"tolerance": TOLERANCE_DEG})
            data.density = _text(await cur.fetchone())
    for overlay in await _present(conn, spec):
        if defer and not spec.shows(overlay):
            data.deferred[overlay] = await _summary(conn, overlay)
        elif overlay in ANALYTICS_TABLES:
            data.analytics[overlay] = await _overlay_features(conn, overlay)
        else:
            data.layers[overlay] = await _overlay_features(conn, overlay)
    return data


async def overlay_geojson(conn: AsyncConnection, name: str, overlay: str) -> str:
    """One overlay of a map as GeoJSON, as the page would embed it; ``NotFound`` names the map's overlays."""
    present = await _present(conn, get_map(name))
    if overlay not in present:
        raise NotFound(f"map {name!r} has no overlay {overlay!r}; overlays: {', '.join(present)}")
    return await _overlay_features(conn, overlay)


async def _present(conn: AsyncConnection, spec: MapSpec) -> list[str]:
    """The map's overlays whose tables exist (analytics outputs appear once their engine has run)."""
    if not spec.analytics:
        return list(spec.layers)
    async with conn.cursor() as cur:
        await cur.execute(load_sql("maps/existing_tables"), {"names": list(ANALYTICS_TABLES)})
        existing = {row[0] for row in await cur.fetchall()}
    return [overlay for overlay in spec.overlays() if overlay not in ANALYTICS_TABLES or overlay in existing]


async def _overlay_features(conn: AsyncConnection, overlay: str) -> str:
    if overlay in ANALYTICS_TABLES:
        return await _features(conn, overlay, None, 0.0)
    spec = REGISTRY[overlay]
    return await _features(conn, overlay, _popup_fields(spec), _tolerance(spec))


async def _summary(conn: AsyncConnection, overlay: str) -> Deferred:
    query = sql.SQL(load_sql("maps/overlay_summary")).format(
        table=sql.Identifier(overlay), where=sql.SQL(ROWS.get(overlay, "true"))
    )
    async with conn.cursor() as cur:
        await cur.execute(query, {"table": overlay})
        row = await cur.fetchone()
    assert row is not None  # an aggregate always answers one row
    return Deferred(features=row[0], columns=tuple(c for c in row[1] if c != "geom"))


def _tolerance(spec: LayerSpec) -> float:
    return 0.0 if spec.geometry_type in ("Point", "MultiPoint") else DETAIL_TOLERANCE_DEG


def _popup_fields(spec: LayerSpec) -> tuple[str, ...]:
    return tuple(f for f in spec.mvt_fields if f not in ("source", "updated_at"))


async def _features(conn: AsyncConnection, table: str, fields: tuple[str, ...] | None, tolerance: float) -> str:
    if fields is None:  # an analytics table of unknown shape: every column but the geometry
        properties: sql.Composable = sql.SQL("to_jsonb(src) - 'geom'")
    else:
        pairs = sql.SQL(", ").join(sql.SQL("{}, src.{}").format(sql.Literal(f), sql.Identifier(f)) for f in fields)
        properties = sql.SQL("json_build_object({})").format(pairs)
    where = sql.SQL(ROWS.get(table, "true"))
    query = sql.SQL(load_sql("maps/features")).format(properties=properties, table=sql.Identifier(table), where=where)
    async with conn.cursor() as cur:
        await cur.execute(query, {"tolerance": tolerance})
        return _text(await cur.fetchone())


def _text(row: tuple[Any, ...] | None) -> str:
    return str(row[0]) if row and row[0] is not None else '{"type": "FeatureCollection", "features": []}'


# --- building -------------------------------------------------------------------------------


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (folium's also shows miles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class Attribution(MacroElement):
    """The credits of the data drawn, in Leaflet's attribution control (licences such as CC BY-SA require them)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet").addAttribution({{ this.html|tojson }});
        {% endmacro %}
    """)

    def __init__(self, credits: list[str]) -> None:
        super().__init__()
        self.html = " · ".join(_escape(credit) for credit in ["HueGIS", *credits])


class Legend(MacroElement):
    """A fixed legend box in the map's bottom-right corner."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="huegis-legend">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body


# Below this width the layer control folds into a button (a phone: 390 px wide).
PHONE_MEDIA = "(max-width: 600px)"


class LayerButton(MacroElement):
    """The folded layer control's button, named in the page's language (Leaflet says "Layers")."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (control) {
            const link = control.getContainer().querySelector(".leaflet-control-layers-toggle");
            link.title = {{ this.label|tojson }};
            link.setAttribute("aria-label", {{ this.label|tojson }});
            if (control.options.collapsed) {  // a tap anywhere else folds it (Leaflet: only on the bare map)
                document.addEventListener("click", (event) => {
                    if (!control.getContainer().contains(event.target)) control.collapse();
                });
            }
        })({{ this.control.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, control: folium.LayerControl, label: str) -> None:
        super().__init__()
        self._name = "LayerButton"
        self.control = control
        self.label = label


class DeferredLoader(MacroElement):
    """The page's loader of deferred overlays: an empty GeoJSON layer that fetches its features the first
    time it is switched on, says so while it loads and if it fails (and tries again next time)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="huegis-status" role="status" aria-live="polite" hidden></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        function huegisDeferred(map, url, name, style, fields) {
            const messages = {{ this.messages|tojson }};
            const status = document.querySelector(".huegis-status");
            const styleOf = (feature) => style.fillBy === null ? style.base : Object.assign({}, style.base,
                {fillColor: style.fills[feature.properties[style.fillBy]] ?? style.base.fillColor});
            const layer = L.geoJson(null, {
                style: styleOf,
                pointToLayer: (feature, latlng) => L.circleMarker(latlng,
                    Object.assign({radius: style.radius ?? 6}, styleOf(feature))),
            });
            if (fields.length) {
                layer.bindTooltip((sublayer) => {
                    const table = document.createElement("table");
                    for (const field of fields) {
                        const row = table.insertRow();
                        const value = sublayer.feature.properties[field];
                        row.appendChild(document.createElement("th")).textContent = field;
                        row.insertCell().textContent = value === null || value === undefined ? "" :
                            typeof value === "object" ? JSON.stringify(value) : String(value);
                    }
                    return table;
                }, {sticky: true});
            }
            let state = "empty";
            layer.on("add", () => {
                if (state !== "empty") return;
                state = "loading";
                status.textContent = messages.loading.replace("{name}", name);
                status.hidden = false;
                fetch(url, {headers: {Accept: "application/geo+json"}})
                    .then((response) => {
                        if (!response.ok) throw new Error(`${response.status}`);
                        return response.json();
                    })
                    .then((data) => {
                        layer.addData(data);
                        state = "loaded";
                        status.hidden = true;
                        map.getContainer().dataset.loadedOverlays =
                            `${map.getContainer().dataset.loadedOverlays || ""} ${url}`.trim();
                    })
                    .catch(() => {
                        state = "empty";
                        status.textContent = messages.failed.replace("{name}", name);
                    });
            });
            return layer;
        }
        {% endmacro %}
        """
    )

    def __init__(self, lang: Lang) -> None:
        super().__init__()
        self._name = "DeferredLoader"
        self.messages = (
            {"loading": "Đang tải lớp {name}…", "failed": "Không tải được lớp {name}: hãy bật lại để thử lần nữa."}
            if lang == "vi"
            else {"loading": "Loading {name}…", "failed": "Could not load {name}: switch it on again to retry."}
        )


class DeferredOverlay(Layer):
    """An overlay listed in the layer control whose features are fetched from ``url`` when switched on."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = huegisDeferred({{ this._parent.get_name() }}, {{ this.url|tojson }},
            {{ this.layer_name|tojson }}, {{ this.style.options()|tojson }}, {{ this.fields|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, url: str, *, name: str, style: OverlayStyle, fields: list[str], show: bool = False) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "DeferredOverlay"
        self.url = url
        self.style = style
        self.fields = fields


PAGE_CSS = """
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  .folium-map.leaflet-container { background: #f3efe6; }
  .huegis-title { position: absolute; z-index: 1000; top: 10px; left: 56px; max-width: 60%;
    background: rgba(255,255,255,.92); padding: 6px 12px; border-radius: 6px; font: 14px system-ui, sans-serif;
    box-shadow: 0 1px 4px rgba(0,0,0,.3); }
  .huegis-title h1 { font-size: 16px; margin: 0; color: #5b2c6f; }
  .huegis-title p { margin: 2px 0 0; font-size: 12px; color: #444; }
  .huegis-legend { position: absolute; z-index: 1000; bottom: 24px; right: 10px; background: rgba(255,255,255,.92);
    padding: 6px 10px; border-radius: 6px; font: 12px system-ui, sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
  .huegis-legend i { display: inline-block; width: 14px; height: 10px; margin-right: 4px; }
  .huegis-status { position: absolute; z-index: 1000; bottom: 44px; left: 10px; max-width: 60%;
    background: rgba(255,255,255,.95); padding: 6px 10px; border-radius: 6px; font: 13px system-ui, sans-serif;
    box-shadow: 0 1px 4px rgba(0,0,0,.3); }
</style>
"""


def build_map(
    spec: MapSpec,
    data: MapData,
    *,
    assets: Assets,
    lang: Lang = "vi",
    home: str | None = None,
    overlays: str | None = None,
) -> folium.Map:
    """The folium map of ``spec`` drawing ``data``; assets point at ``assets`` only. The page fetches each
    deferred overlay from ``overlays/<id>`` (the app's ``/maps/{name}/overlays``) when it is switched on."""
    west, south, east, north = get_layer("water_areas").bbox  # the sea runs on to here: the view stays inside
    fmap = folium.Map(
        location=CENTRE, zoom_start=10, tiles=None, prefer_canvas=True, control_scale=False, max_bounds=True,
        min_lat=south, max_lat=north, min_lon=west, max_lon=east,
        minZoom=MIN_ZOOM,  # the map's own option: folium's min_zoom only reaches a tile layer
    )  # fmt: skip
    _use_local_assets(fmap, assets)
    root: Figure = fmap.get_root()  # type: ignore[assignment]
    root.header.add_child(Element(PAGE_CSS), name="huegis_css")
    title, description = (spec.title_vi, spec.description_vi) if lang == "vi" else (spec.title, spec.description)
    root.title = f"HueGIS — {_escape(title)}"
    fmap.add_child(MetricScale())
    fmap.add_child(Attribution(spec.attributions()))
    back = f' · <a href="{home}">{"Các bản đồ" if lang == "vi" else "All maps"}</a>' if home else ""
    root.html.add_child(
        Element(f'<div class="huegis-title"><h1>{_escape(title)}</h1><p>{_escape(description)}{back}</p></div>')
    )
    _add_basemap(fmap, data.basemap, lang)
    if data.density is not None:
        _add_density(fmap, data.density, lang, show=spec.shows("density"))
    if data.deferred:
        if overlays is None:
            raise ValueError("deferred overlays need the URL they are fetched from (overlays=)")
        fmap.add_child(DeferredLoader(lang))
    for overlay in spec.overlays():
        if overlay in data.deferred:
            deferred = data.deferred[overlay]
            fmap.add_child(DeferredOverlay(
                f"{overlays}/{overlay}", name=_overlay_name(overlay, deferred.features, lang),
                style=_overlay_style(overlay), fields=_tooltip_fields(overlay, deferred.columns),
                show=spec.shows(overlay),
            ))  # fmt: skip
        elif overlay in data.layers or overlay in data.analytics:
            geojson = data.layers.get(overlay) or data.analytics[overlay]
            _add_overlay(fmap, overlay, geojson, lang, show=spec.shows(overlay))
    # On a phone the open list would cover a third of the screen: there it folds into a button, decided
    # in the page by its width (folium's typing wants a constant; its template writes JsCode as it is).
    control = folium.LayerControl(position="topright")
    control.options["collapsed"] = JsCode(f"matchMedia('{PHONE_MEDIA}').matches")  # type: ignore[assignment]
    fmap.add_child(control)
    fmap.add_child(LayerButton(control, "Lớp bản đồ" if lang == "vi" else "Map layers"))
    return fmap


def render_html(fmap: folium.Map, lang: Lang = "vi") -> str:
    """The page's HTML in ``lang``; ``RuntimeError`` if any script or stylesheet would come from another host."""
    html = fmap.get_root().render().replace("<html>", f'<html lang="{lang}">', 1)
    external = EXTERNAL_ASSET.findall(html)
    if external:
        raise RuntimeError(f"map page would load assets from outside the platform: {', '.join(sorted(set(external)))}")
    return html


async def render_map(
    conn: AsyncConnection,
    name: str,
    *,
    assets: Assets,
    lang: Lang = "vi",
    home: str | None = None,
    overlays: str | None = None,
) -> str:
    """Read, build and render one map: the HTML page. With ``overlays`` (a URL prefix) the overlays hidden
    at first are fetched from there when switched on instead of embedded (a standalone file embeds all)."""
    spec = get_map(name)
    data = await fetch_map_data(conn, spec, defer=overlays is not None)
    fmap = build_map(spec, data, assets=assets, lang=lang, home=home, overlays=overlays)
    return render_html(fmap, lang)


def _use_local_assets(element: Any, assets: Assets) -> None:
    """Point folium's asset lists at our copies; fail loudly on an asset we have not vendored."""
    local = dict(assets.js() + assets.css())
    for kind in ("default_js", "default_css"):
        wanted = getattr(element, kind, None)
        if wanted is None:
            continue
        rewritten = []
        for name, url in wanted:
            if name in UNUSED_ASSETS:
                continue
            if name not in local:
                raise RuntimeError(f"folium asset {name!r} ({url}) is not vendored under {VENDOR_DIR}")
            rewritten.append((name, local[name]))
        setattr(element, kind, rewritten)


def _add_basemap(fmap: folium.Map, basemap: dict[str, str], lang: Lang) -> None:
    group = folium.FeatureGroup(name="Bản đồ nền" if lang == "vi" else "Basemap", control=False)
    water = {"fillColor": "#a9d3e8", "color": "#a9d3e8", "weight": 0.5, "fillOpacity": 1}
    folium.GeoJson(json.loads(basemap["water_areas"]), style_function=lambda _: water, interactive=False).add_to(group)
    folium.GeoJson(
        json.loads(basemap["admin_units"]), style_function=_admin_style, interactive=False, smooth_factor=1.5
    ).add_to(group)
    river = {"color": "#6fb1d6", "weight": 2}
    folium.GeoJson(json.loads(basemap["rivers"]), style_function=lambda _: river, interactive=False).add_to(group)
    folium.GeoJson(json.loads(basemap["roads"]), style_function=_road_style, interactive=False).add_to(group)
    group.add_to(fmap)


def _admin_style(feature: dict) -> dict:
    if feature["properties"]["level"] == "city":
        return {"color": "#5b2c6f", "weight": 2.5, "fill": False}
    return {"color": "#9c89b8", "weight": 0.8, "dashArray": "4 3", "fill": False}


def _road_style(feature: dict) -> dict:
    road_class = feature["properties"]["road_class"]
    colour = {"national": "#e8923a", "provincial": "#f2c36b"}.get(road_class, "#6d6d6d")
    return {"color": colour, "weight": 1.5 if road_class == "railway" else 2.5}


def _add_density(fmap: folium.Map, geojson: str, lang: Lang, *, show: bool = True) -> None:
    data = json.loads(geojson)
    values = [f["properties"]["density"] for f in data["features"] if f["properties"]["density"] is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    colours = LinearColormap(["#fff5eb", "#fdae6b", "#e6550d", "#7f2704"], vmin=low, vmax=max(high, low + 1))

    def style(feature: dict) -> dict:
        density = feature["properties"]["density"]
        fill = colours(density) if density is not None else "#cccccc"
        return {"fillColor": fill, "color": "#7f6a93", "weight": 0.7, "fillOpacity": 0.75}

    name = "Mật độ dân số (người/km²)" if lang == "vi" else "Population density (per km²)"
    labels = ("Xã/phường", "Dân số", "Diện tích km²", "Người/km²") if lang == "vi" else (
        "Ward/commune", "Population", "Area km²", "Per km²")  # fmt: skip
    folium.GeoJson(
        data,
        name=name,
        show=show,
        style_function=style,
        highlight_function=lambda _: {"weight": 2.5, "color": "#5b2c6f"},
        tooltip=folium.GeoJsonTooltip(fields=["name", "population", "area_km2", "density"], aliases=list(labels)),
    ).add_to(fmap)
    steps = [low + (high - low) * i / 4 for i in range(5)]
    swatches = "<br>".join(f'<i style="background:{colours(v)}"></i>{format_number(v, lang)}' for v in steps)
    fmap.add_child(Legend(f"<b>{_escape(name)}</b><br>{swatches}"))


# Hot spots: Gi* class -3 (cold, 99 %) … +3 (hot, 99 %); 0 is not significant.
GI_COLOURS = {-3: "#2166ac", -2: "#67a9cf", -1: "#d1e5f0", 0: "#f7f7f7", 1: "#fddbc7", 2: "#ef8a62", 3: "#b2182b"}
CELL_TOOLTIPS = {
    "hotspot_cells": ("label", "gi_class", "events", "gi_z", "p_value", "period"),
    "forecast_cells": ("expected", "rank", "model", "period_start", "period_end", "period"),
}
CELL_NAMES = {"hotspot_cells": ("Điểm nóng phản ánh", "Report hot spots"), "forecast_cells": ("Dự báo", "Forecast")}


@dataclass(frozen=True)
class OverlayStyle:
    """How an overlay is drawn, in Python (embedded) and in the page (deferred): one style, its fill
    coloured by a property's value when ``fill_by`` is set; points as circles of ``radius``."""

    base: dict[str, Any]
    fill_by: str | None = None
    fills: dict[Any, str] = field(default_factory=dict)
    radius: float | None = None

    def __call__(self, feature: dict) -> dict:
        if self.fill_by is None:
            return self.base
        fill = self.fills.get(feature["properties"].get(self.fill_by), self.base["fillColor"])
        return {**self.base, "fillColor": fill}

    def options(self) -> dict[str, Any]:
        """The style as the page's loader reads it."""
        return {"base": self.base, "fillBy": self.fill_by, "fills": self.fills, "radius": self.radius}


def _overlay_style(overlay: str) -> OverlayStyle:
    spec = REGISTRY.get(overlay)
    if overlay in ANALYTICS_TABLES:
        colour = spec.style.color if spec else "#ef8a62"
        base = {"color": "#7f7f7f", "weight": 0.3, "fillColor": colour, "fillOpacity": 0.6}
        return OverlayStyle(base, "gi_class", GI_COLOURS) if overlay == "hotspot_cells" else OverlayStyle(base)
    assert spec is not None  # every other overlay is a registered layer
    style = spec.style
    if spec.geometry_type in ("Point", "MultiPoint"):
        base = {"fillColor": style.color, "color": "#ffffff", "weight": 1, "fill": True, "fillOpacity": 0.9}
        return OverlayStyle(base, radius=style.radius)
    return OverlayStyle(
        {"color": style.color, "weight": style.weight, "fillColor": style.color, "fillOpacity": style.fill_opacity}
    )


def _overlay_name(overlay: str, features: int, lang: Lang) -> str:
    """The overlay's name in the layer control, with its number of features."""
    spec = REGISTRY.get(overlay)
    vi, en = (spec.title_vi, spec.title) if spec else CELL_NAMES.get(overlay, (overlay, overlay))
    return f"{vi if lang == 'vi' else en} ({format_number(features, lang)})"


def _tooltip_fields(overlay: str, columns: Collection[str]) -> list[str]:
    """The properties a tooltip lists, among ``columns`` (an analytics table of unknown shape: the first few)."""
    preferred = CELL_TOOLTIPS.get(overlay) or (_popup_fields(REGISTRY[overlay]) if overlay in REGISTRY else ())
    return [f for f in preferred if f in columns][:TOOLTIP_FIELDS] or sorted(columns)[:TOOLTIP_FIELDS]


def _add_overlay(fmap: folium.Map, overlay: str, geojson: str, lang: Lang, *, show: bool) -> None:
    data = json.loads(geojson)
    style = _overlay_style(overlay)
    fields = _tooltip_fields(overlay, data["features"][0]["properties"] if data["features"] else ())
    folium.GeoJson(
        data,
        name=_overlay_name(overlay, len(data["features"]), lang),
        show=show,
        style_function=style,
        marker=folium.CircleMarker(radius=style.radius) if style.radius else None,
        tooltip=folium.GeoJsonTooltip(fields=fields) if fields else None,
    ).add_to(fmap)


def format_number(value: float, lang: Lang) -> str:
    """A whole number as each language writes it: 15.294 (vi-VN), 15,294 (en-US)."""
    text = f"{value:,.0f}"
    return text.replace(",", ".") if lang == "vi" else text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- export -------------------------------------------------------------------------------


def copy_vendor(target: Path) -> Path:
    """Copy the libraries exported maps need (Leaflet, Bootstrap, jQuery) to ``target/vendor``."""
    vendor = target / "vendor"
    for package in ("leaflet", "bootstrap", "jquery"):
        shutil.copytree(VENDOR_DIR / package, vendor / package, dirs_exist_ok=True)
    return vendor


async def export_maps(
    conn: AsyncConnection, target: Path, *, names: list[str] | None = None, lang: Lang = "vi"
) -> list[Path]:
    """Write each map as a standalone HTML file in ``target`` (libraries in ``target/vendor``)."""
    specs = [get_map(name) for name in (names or list(MAPS))]
    target.mkdir(parents=True, exist_ok=True)
    copy_vendor(target)
    written = []
    for spec in specs:
        path = target / f"{spec.name}.html"
        path.write_text(await render_map(conn, spec.name, assets=Assets("vendor"), lang=lang, home="index.html"))
        written.append(path)
    index = "".join(
        f'<li><a href="{s.name}.html">{_escape(s.title_vi if lang == "vi" else s.title)}</a></li>' for s in specs
    )
    (target / "index.html").write_text(
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>HueGIS maps</title>'
        f"<h1>HueGIS</h1><ul>{index}</ul></html>"
    )
    return written
