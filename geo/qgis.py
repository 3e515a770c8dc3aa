"""A ready QGIS project (.qgz): every published layer, styled and grouped, from one file.

Layers connect over OGC API Features with 1000 features a page (QGIS asks 10 by default); the
heavy ones (many polygons, or very many features) come as the platform's vector tiles instead,
which QGIS draws without downloading the layer. Names are Vietnamese and English; colours and
widths come from the registry's styles; groups follow the registry's groups. The project is
QGIS XML written here (no QGIS needed on the server); tests open it with PyQGIS.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable

from psycopg import AsyncConnection, sql

from geo.registry import LayerSpec, published

PAGE_SIZE = 1000
HEAVY_POLYGONS = 5_000  # polygon layers above this many features: vector tiles
HEAVY_FEATURES = 50_000  # any layer above this many features: vector tiles
GROUPS = {
    "thematic": "Chuyên đề / Thematic",
    "operations": "Điều hành / Operations",
    "reference": "Nền / Reference",
    "admin": "Hành chính / Administrative",
}
TILE_MAX_ZOOM = 14  # QGIS overzooms beyond: our tiles carry full detail from z14
SYMBOL = {"Point": "marker", "MultiPoint": "marker", "LineString": "line", "MultiLineString": "line",
          "MultiPolygon": "fill"}  # fmt: skip
DIMENSION = {"marker": "0", "line": "1", "fill": "2"}


async def feature_counts(conn: AsyncConnection, layers: Iterable[LayerSpec]) -> dict[str, int]:
    """Exact feature counts of the layers (one aggregate per table)."""
    counts = {}
    async with conn.cursor() as cur:
        for spec in layers:
            await cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(spec.table_name)))
            row = await cur.fetchone()
            counts[spec.id] = int(row[0]) if row else 0
    return counts


def is_heavy(spec: LayerSpec, count: int) -> bool:
    """Served as vector tiles rather than features in the project."""
    return count > HEAVY_FEATURES or (spec.geometry_type == "MultiPolygon" and count > HEAVY_POLYGONS)


async def project_bytes(conn: AsyncConnection, base_url: str) -> bytes:
    """The .qgz (a zip holding huegis.qgs) for the platform at ``base_url``."""
    layers = published()
    counts = await feature_counts(conn, layers)
    qgs = project_xml(layers, counts, base_url.rstrip("/"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("huegis.qgs", qgs)
    return buffer.getvalue()


def project_xml(layers: Iterable[LayerSpec], counts: dict[str, int], base: str) -> bytes:
    """The QGIS project document: the layer tree by group, then the layers' definitions."""
    layers = list(layers)
    root = ET.Element("qgis", projectname="HueGIS", version="3.22.0")
    ET.SubElement(root, "title").text = "HueGIS: Thành phố Huế"
    crs = ET.SubElement(ET.SubElement(root, "projectCrs"), "spatialrefsys")
    ET.SubElement(crs, "authid").text = "EPSG:3857"
    tree = ET.SubElement(root, "layer-tree-group")
    definitions = ET.SubElement(root, "projectlayers")
    for group, label in GROUPS.items():
        members = [spec for spec in layers if spec.group == group]
        if not members:
            continue
        node = ET.SubElement(tree, "layer-tree-group", name=label, checked="Qt::Checked", expanded="1")
        for spec in members:
            heavy = is_heavy(spec, counts.get(spec.id, 0))
            layer_id = f"{spec.id}_{'tiles' if heavy else 'features'}"
            name = f"{spec.title_vi} / {spec.title}"
            source = _tile_source(spec, base) if heavy else _feature_source(spec, base)
            checked = "Qt::Checked" if spec.group in ("admin", "thematic") else "Qt::Unchecked"
            ET.SubElement(node, "layer-tree-layer", id=layer_id, name=name, source=source,
                          providerKey="vectortile" if heavy else "OAPIF", checked=checked, expanded="0")  # fmt: skip
            definitions.append(_tile_layer(spec, layer_id, name, source) if heavy else
                               _feature_layer(spec, layer_id, name, source))  # fmt: skip
    ET.indent(root)
    return b"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="utf-8")


def _feature_source(spec: LayerSpec, base: str) -> str:
    return (f"pageSize='{PAGE_SIZE}' pagingEnabled='true' preferCoordinatesForWfsT11='false' "
            f"restrictToRequestBBOX='1' typename='{spec.id}' url='{base}/ogc'")  # fmt: skip


def _tile_source(spec: LayerSpec, base: str) -> str:
    return f"type=xyz&url={base}/tiles/{spec.id}/%7Bz%7D/%7Bx%7D/%7By%7D.mvt&zmax={TILE_MAX_ZOOM}&zmin=0"


def _feature_layer(spec: LayerSpec, layer_id: str, name: str, source: str) -> ET.Element:
    geometry = {"marker": "Point", "line": "Line", "fill": "Polygon"}[SYMBOL[spec.geometry_type]]
    layer = ET.Element("maplayer", type="vector", geometry=geometry, wkbType=spec.geometry_type)
    _common(layer, layer_id, name, source)
    ET.SubElement(layer, "provider", encoding="UTF-8").text = "OAPIF"
    renderer = ET.SubElement(layer, "renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0")
    ET.SubElement(renderer, "symbols").append(_symbol(spec, "0"))
    return layer


def _tile_layer(spec: LayerSpec, layer_id: str, name: str, source: str) -> ET.Element:
    layer = ET.Element("maplayer", type="vector-tile")
    _common(layer, layer_id, name, source)
    ET.SubElement(layer, "provider").text = "vectortile"
    renderer = ET.SubElement(layer, "renderer", type="basic")
    styles = ET.SubElement(renderer, "styles")
    kind = SYMBOL[spec.geometry_type]
    attributes = {"name": spec.id, "layer": spec.id, "geometry": DIMENSION[kind], "enabled": "1", "expression": "",
                  "min-zoom": "-1", "max-zoom": "-1"}  # fmt: skip
    style = ET.SubElement(styles, "style", attributes)
    ET.SubElement(style, "symbols").append(_symbol(spec, "0"))
    return layer


def _common(layer: ET.Element, layer_id: str, name: str, source: str) -> None:
    ET.SubElement(layer, "id").text = layer_id
    ET.SubElement(layer, "datasource").text = source
    ET.SubElement(layer, "layername").text = name
    srs = ET.SubElement(ET.SubElement(layer, "srs"), "spatialrefsys")
    ET.SubElement(srs, "authid").text = "EPSG:4326" if layer.get("type") == "vector" else "EPSG:3857"


def _symbol(spec: LayerSpec, name: str) -> ET.Element:
    """The registry's style as a QGIS symbol: marker, line or fill."""
    kind = SYMBOL[spec.geometry_type]
    style = spec.style
    color = _rgba(style.color, 1.0)
    symbol = ET.Element("symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    if kind == "marker":
        props = {"name": "circle", "color": color, "outline_color": "255,255,255,255", "outline_width": "0.3",
                 "size": f"{style.radius * 0.6:g}", "size_unit": "MM"}  # fmt: skip
        layer_class = "SimpleMarker"
    elif kind == "line":
        props = {"line_color": color, "line_width": f"{style.weight * 0.26:g}", "line_width_unit": "MM"}
        layer_class = "SimpleLine"
    else:
        props = {"color": _rgba(style.color, style.fill_opacity), "outline_color": color,
                 "outline_width": f"{style.weight * 0.26:g}", "style": "solid"}  # fmt: skip
        layer_class = "SimpleFill"
    symbol_layer = ET.SubElement(symbol, "layer", {"class": layer_class, "enabled": "1", "locked": "0", "pass": "0"})
    for key, value in props.items():
        ET.SubElement(symbol_layer, "prop", k=key, v=value)
    return symbol


def _rgba(hex_color: str, opacity: float) -> str:
    value = hex_color.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{red},{green},{blue},{round(opacity * 255)}"
