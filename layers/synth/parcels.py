"""Synthetic cadastral parcels (thửa đất) on a few map sheets of a sample of wards.

A real cadastre covers every ward; a synthetic one that did would be millions of rows, so a few
cadastral map sheets (tờ bản đồ) are drawn in a sample of wards from the dense city to the
mountains: 1:1000 sheets (500 x 625 m) in the city, 1:2000 (1 x 1.25 km) in the lowland
communes and 1:5000 (2.5 x 3.125 km) in the mountains, as Vietnamese cadastral surveys use.
Inside each sheet every planning zone is cut into street blocks and the blocks into rows of lots,
narrow tube-house lots in the city, wide garden lots in villages, fields and forest plots in the
countryside; land-use codes (Circular 08/2024/TT-BTNMT) follow the zone type.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.models import LandParcel
from layers.synth.context import XY, SynthContext, WardModel
from layers.synth.frames import to_frame
from layers.synth.planning import zones_frame_utm
from layers.synth.sampling import pick

SEED_OFFSET = 404

# Map sheet size (width, height) in metres by survey scale.
SHEETS = {1000: (500.0, 625.0), 2000: (1000.0, 1250.0), 5000: (2500.0, 3125.0)}
# How many wards of each kind are surveyed, how many sheets each and at what scale.
SAMPLE = (("core", 3, 2, 1000), ("peri_urban", 3, 1, 1000), ("lowland", 2, 1, 2000), ("mountain", 1, 1, 2000))
# Village house lots cluster within this distance of a settlement centre; gardens and fields lie beyond.
VILLAGE_RADIUS_M = 450.0
# Zone kinds whose lots share one land use per street block.
BLOCK_USE = ("agriculture", "village_fringe", "forest", "industrial", "public_facility")
# A home lot is at most this large; a bigger lot is garden land (communes) or a business (wards).
MAX_HOME_M2 = 2000.0


@dataclass(frozen=True)
class Template:
    """How a zone is cut into lots: frontage and depth (m), street width and block length (m)."""

    frontage: tuple[float, float]
    depth: tuple[float, float]
    street: float
    block: tuple[float, float]
    min_area: float


TEMPLATES = {
    "urban_residential": Template((5, 14), (18, 30), 6, (60, 140), 100),
    "rural_residential": Template((12, 30), (25, 45), 5, (80, 200), 200),
    "mixed_use": Template((8, 25), (20, 40), 8, (80, 160), 120),
    "commercial": Template((15, 50), (25, 60), 10, (100, 200), 300),
    "heritage_conservation": Template((8, 22), (20, 40), 5, (70, 150), 120),
    "tourism": Template((30, 90), (40, 120), 8, (150, 300), 800),
    "industrial": Template((50, 150), (60, 160), 12, (200, 400), 2000),
    "public_facility": Template((40, 120), (40, 120), 10, (150, 300), 1000),
    "agriculture": Template((15, 45), (30, 80), 3, (150, 400), 300),
    "forest": Template((80, 250), (100, 300), 6, (400, 900), 5000),
}

# Land-use codes by zone type, with shares; urban wards use ODT, communes ONT for homes.
LAND_USE_BY_ZONE: dict[str, dict[str, float]] = {
    "residential": {"HOME": 0.9, "TMD": 0.03, "TON": 0.02, "CLN": 0.05},
    "mixed_use": {"HOME": 0.6, "TMD": 0.35, "DYT": 0.05},
    "commercial": {"TMD": 0.8, "HOME": 0.2},
    # People still live inside the Citadel; the monuments themselves are historical-site land (DDT).
    "heritage_conservation": {"HOME": 0.8, "DDT": 0.1, "TON": 0.04, "CLN": 0.06},
    "tourism": {"TMD": 0.85, "HOME": 0.1, "DDT": 0.05},
    "industrial": {"SKC": 0.9, "TMD": 0.1},
    "public_facility": {"DGD": 0.35, "DYT": 0.15, "DTT": 0.2, "CQP": 0.1, "DDT": 0.1, "TON": 0.1},
    # Cemeteries on the sand dunes are part of Huế's lowland landscape.
    "agriculture": {"LUA": 0.55, "HNK": 0.15, "CLN": 0.12, "NTS": 0.1, "NTD": 0.08},
    "forest": {"RSX": 0.9, "CLN": 0.1},
    # The part of a rural residential zone outside its villages: home gardens and fields.
    "village_fringe": {"CLN": 0.5, "HNK": 0.3, "LUA": 0.2},
}
HOLDERS: dict[str, dict[str, float]] = {
    "household": {"household": 0.95, "organisation": 0.05},
    "business": {"organisation": 0.85, "household": 0.15},
    "public": {"state": 0.9, "organisation": 0.1},
    "forest": {"household": 0.6, "organisation": 0.25, "state": 0.15},
    "cemetery": {"state": 0.5, "organisation": 0.3, "household": 0.2},
    "religious": {"organisation": 1.0},
}
HOLDER_KIND = {
    "ODT": "household", "ONT": "household", "LUA": "household", "CLN": "household", "HNK": "household",
    "NTS": "household", "RSX": "forest", "TMD": "business", "SKC": "business", "DGD": "public",
    "DYT": "public", "DTT": "public", "DDT": "public", "CQP": "public", "TON": "religious", "NTD": "cemetery",
}  # fmt: skip


@dataclass(frozen=True)
class Parcel:
    """One lot in UTM before numbering."""

    ward_code: str
    sheet: int
    land_use: str
    holder_type: str
    geom: BaseGeometry


def generate_land_parcels(ctx: SynthContext) -> gpd.GeoDataFrame:
    """Cadastral parcels on sampled map sheets as a ``land_parcels`` layer."""
    frame = parcels_utm(ctx)
    records = {
        "parcel_no": frame["parcel_no"].tolist(),
        "map_sheet": frame["map_sheet"].to_numpy(dtype=np.int64),
        "land_use": frame["land_use"].tolist(),
        "area_m2": frame["area_m2"].to_numpy(),
        "holder_type": frame["holder_type"].tolist(),
        "ward_code": frame["ward_code"].tolist(),
    }
    return to_frame(ctx, LandParcel, records, frame.geometry.values, polygons=True)


def parcels_utm(ctx: SynthContext) -> gpd.GeoDataFrame:
    """The parcels in UTM with their attributes, built once per context."""
    frame: gpd.GeoDataFrame = ctx.cached("land_parcels", lambda: _build(ctx))
    return frame.copy()


def _build(ctx: SynthContext) -> gpd.GeoDataFrame:
    """Survey the sampled sheets: cut every zone on them into lots and number the lots."""
    rng = ctx.rng(SEED_OFFSET)
    zones = zones_frame_utm(ctx)
    parcels: list[Parcel] = []
    for ward, n_sheets, scale in _sample_wards(ctx, rng):
        ward_zones = zones[zones["ward_code"] == ward.code]
        for sheet_no, sheet in _pick_sheets(ward, n_sheets, scale, rng):
            for zone_geom, zone_type in zip(ward_zones.geometry, ward_zones["zone_type"], strict=True):
                if zone_type == "green_space" or not zone_geom.intersects(sheet):
                    continue  # parks are public land without a cadastral use code in our subset
                piece = zone_geom.intersection(sheet)
                if piece.area < 500:
                    continue
                angle = _orientation(zone_geom)
                for kind, part in _split_villages(zone_type, ward, piece):
                    block_use: dict[int, str] = {}
                    for lot, block in _subdivide(part, _template(kind, ward), angle, rng):
                        use = _land_use(kind, ward, lot.area, rng)
                        if kind in BLOCK_USE:
                            # Fields, ponds and cemeteries come in patches: one use per block.
                            use = block_use.setdefault(block, use)
                        holder = pick(HOLDERS[HOLDER_KIND[use]], rng)
                        parcels.append(Parcel(ward.code, sheet_no, use, holder, lot))
    frame = gpd.GeoDataFrame(
        {
            "ward_code": [p.ward_code for p in parcels],
            "map_sheet": [p.sheet for p in parcels],
            "land_use": [p.land_use for p in parcels],
            "holder_type": [p.holder_type for p in parcels],
        },
        geometry=[p.geom for p in parcels],
        crs="EPSG:32648",
    )
    frame["area_m2"] = frame.geometry.area.round(1)
    return _number(frame)


def _sample_wards(ctx: SynthContext, rng: np.random.Generator) -> list[tuple[WardModel, int, int]]:
    """A seeded sample of wards from each kind of place, with sheet count and scale."""
    kinds: dict[str, list[WardModel]] = {"core": [], "peri_urban": [], "lowland": [], "mountain": []}
    for ward in ctx.models():
        if ward.urbanity >= 0.7:
            kinds["core"].append(ward)
        elif ward.urbanity >= 0.35:
            kinds["peri_urban"].append(ward)
        elif ward.urbanity >= 0.1:
            kinds["lowland"].append(ward)
        else:
            kinds["mountain"].append(ward)
    chosen = []
    for kind, n_wards, n_sheets, scale in SAMPLE:
        pool = kinds[kind]
        if not pool:
            continue
        picks = rng.choice(len(pool), size=min(n_wards, len(pool)), replace=False)
        chosen += [(pool[int(i)], n_sheets, scale) for i in sorted(picks)]
    return chosen


def _pick_sheets(ward: WardModel, n: int, scale: int, rng: np.random.Generator) -> list[tuple[int, BaseGeometry]]:
    """Choose ``n`` map sheets of the ward's sheet grid, mostly where people live."""
    w, h = SHEETS[scale]
    minx, miny, maxx, maxy = ward.region.bounds
    cols = int(np.ceil((maxx - minx) / w))
    rows = int(np.ceil((maxy - miny) / h))
    # Sheets are numbered row by row from the north-west corner, as cadastral indexes are.
    grid_col, grid_row = np.meshgrid(np.arange(cols), np.arange(rows))
    col, row = grid_col.ravel(), grid_row.ravel()
    boxes = shapely.box(minx + col * w, maxy - (row + 1) * h, minx + (col + 1) * w, maxy - row * h)
    land_share = shapely.area(shapely.intersection(boxes, ward.region)) / (w * h)
    centres = shapely.get_coordinates(shapely.centroid(boxes))
    ok = np.flatnonzero(land_share > 0.6)
    if len(ok) == 0:
        ok = np.argsort(-land_share)[:n]
    score = ward.density_at(centres[ok]) * land_share[ok] + 1e-9
    picks = rng.choice(ok, size=min(n, len(ok)), replace=False, p=score**2 / (score**2).sum())
    return [(int(row[i] * cols + col[i] + 1), boxes[i]) for i in sorted(picks)]


def _split_villages(zone_type: str, ward: WardModel, piece: BaseGeometry) -> list[tuple[str, BaseGeometry]]:
    """Split a rural residential zone into village cores and their fringe of gardens and fields."""
    if zone_type != "residential" or _template(zone_type, ward) is not TEMPLATES["rural_residential"]:
        return [(zone_type, piece)]
    villages = shapely.union_all(shapely.buffer(shapely.points(ward.centres), VILLAGE_RADIUS_M))
    core = piece.intersection(villages)
    return [("residential", core), ("village_fringe", piece.difference(villages))]


def _template(zone_type: str, ward: WardModel) -> Template:
    """The lot template of a zone type; homes in communes and outer wards get garden lots."""
    if zone_type == "residential":
        urban = ward.level == "ward" and ward.urbanity >= 0.35
        return TEMPLATES["urban_residential" if urban else "rural_residential"]
    if zone_type == "village_fringe":
        return TEMPLATES["agriculture"]
    return TEMPLATES[zone_type]


def _orientation(zone: BaseGeometry) -> float:
    """Street grid angle (radians): along the long side of the zone's minimum rotated rectangle."""
    ring = shapely.get_coordinates(zone.minimum_rotated_rectangle)
    edges = np.diff(ring[:3], axis=0)
    longest = edges[int(np.argmax((edges**2).sum(axis=1)))]
    return float(np.arctan2(longest[1], longest[0]))


def _subdivide(
    piece: BaseGeometry, t: Template, angle: float, rng: np.random.Generator
) -> list[tuple[BaseGeometry, int]]:
    """Cut an area into street blocks and blocks into back-to-back rows of lots: (lot, block number)."""
    if piece.is_empty or piece.area < t.min_area:
        return []
    cx, cy = piece.centroid.x, piece.centroid.y
    cos, sin = np.cos(angle), np.sin(angle)
    # Work in a frame turned so that streets run along x; lots are then plain rectangles.
    local = shapely.transform(piece, lambda c: _rotate(c, cx, cy, cos, -sin))
    minx, miny, maxx, maxy = local.bounds
    rects: list[tuple[float, float, float, float]] = []
    blocks: list[int] = []
    block_no = 0
    y = miny - rng.uniform(0, t.depth[1])
    while y < maxy:
        depth = rng.uniform(*t.depth)
        for y0 in (y, y + depth):  # two rows of lots back to back
            x = minx - rng.uniform(0, t.block[1])
            while x < maxx:
                length = rng.uniform(*t.block)
                row = _row(x, x + length, y0, y0 + depth, t, rng)
                rects += row
                blocks += [block_no] * len(row)
                block_no += 1
                x += length + t.street
        y += 2 * depth + t.street
    if not rects:
        return []
    r = np.asarray(rects)
    corners = np.stack(
        [r[:, [0, 1]], r[:, [2, 1]], r[:, [2, 3]], r[:, [0, 3]], r[:, [0, 1]]], axis=1
    )  # (n, 5, 2) closed rings
    world = _rotate(corners.reshape(-1, 2), cx, cy, cos, sin).reshape(corners.shape)
    lots = shapely.polygons(world)
    block_ids = np.asarray(blocks)
    shapely.prepare(piece)
    hit = shapely.intersects(piece, lots)
    lots, block_ids = lots[hit], block_ids[hit]
    inside = shapely.contains(piece, lots)
    clipped = lots.copy()
    clipped[~inside] = shapely.intersection(lots[~inside], piece)
    out = []
    for lot, block in zip(clipped, block_ids, strict=True):
        lot = _largest_polygon(lot)
        if lot is not None and lot.area >= t.min_area:
            out.append((lot, int(block)))
    return out


def _row(x0: float, x1: float, y0: float, y1: float, t: Template, rng: np.random.Generator) -> list[tuple]:
    """Lots along one street front between x0 and x1, each with a random frontage."""
    widths = rng.uniform(*t.frontage, size=int((x1 - x0) / t.frontage[0]) + 2)
    edges = x0 + np.concatenate([[0.0], np.cumsum(widths)])
    edges = edges[edges < x1]
    # The last lot runs to the corner; a stub narrower than the smallest frontage joins its neighbour.
    if len(edges) > 1 and x1 - edges[-1] < t.frontage[0]:
        edges = edges[:-1]
    edges = np.append(edges, x1)
    return [(a, y0, b, y1) for a, b in pairwise(edges)]


def _rotate(coords: XY, cx: float, cy: float, cos: float, sin: float) -> XY:
    """Rotate (n, 2) coordinates about (cx, cy) by the angle whose cosine and sine are given."""
    x, y = coords[:, 0] - cx, coords[:, 1] - cy
    return np.column_stack([cx + x * cos - y * sin, cy + x * sin + y * cos])


def _largest_polygon(geom: BaseGeometry) -> BaseGeometry | None:
    """The largest polygon of a clipped lot: a lot is one piece of land."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    return max(parts, key=lambda p: p.area) if parts else None


def _land_use(zone_type: str, ward: WardModel, area_m2: float, rng: np.random.Generator) -> str:
    """A land-use code consistent with the zone; homes are ODT in wards and ONT in communes."""
    use = pick(LAND_USE_BY_ZONE[zone_type], rng)
    if use != "HOME":
        return use
    if area_m2 > MAX_HOME_M2:
        return "TMD" if ward.level == "ward" else "CLN"
    return "ODT" if ward.level == "ward" else "ONT"


def _number(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Number lots per sheet from the north-west, in rows, as cadastral sheets are numbered."""
    c = frame.geometry.centroid
    frame = frame.assign(_band=-(c.y // 50).astype(int), _x=c.x)
    frame = frame.sort_values(["ward_code", "map_sheet", "_band", "_x"], kind="stable").reset_index(drop=True)
    n = frame.groupby(["ward_code", "map_sheet"]).cumcount() + 1
    frame["parcel_no"] = [f"{w}-{s}-{k}" for w, s, k in zip(frame["ward_code"], frame["map_sheet"], n, strict=True)]
    return frame.drop(columns=["_band", "_x"])
