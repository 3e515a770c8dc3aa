"""Synthetic planning zones (quy hoạch phân khu): non-overlapping zones tiling each ward's land.

Two passes, as a planner would draw them. First the special areas fixed by their place:
heritage protection around the Imperial Citadel and the royal tombs, the airport, industrial
parks, coastal tourism at Thuận An, Cảnh Dương and Lăng Cô, the An Vân Dương new town. Then
the rest of each ward is cut into Voronoi cells seeded by population (smaller cells where people
live) and each cell gets a zone type from how urban the ward is and how close the cell lies to
its settlements: commercial and mixed use in the old city, housing around villages, farmland
between them, forest far from any settlement. Building limits (FAR, height) follow the type,
with the low heights the heritage zones impose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geo.models import PlanningZone
from layers.synth.context import SynthContext, WardModel, lonlat_to_utm
from layers.synth.frames import to_frame
from layers.synth.sampling import MAX_LANDMARK_OFFSET_M, sample_points

SEED_OFFSET = 303
MIN_ZONE_M2 = 5_000.0  # slivers left by clipping are not zones
MIN_PART_M2 = 1_000.0


CITADEL_LONLAT = (107.5745, 16.4740)
# Around the Citadel the skyline stays low too (the heritage buffer zone): cap what the type allows.
CITADEL_BUFFER_M = 500.0
BUFFER_LIMITS = (2.5, 15.0)


@dataclass(frozen=True)
class Overlay:
    """A special area fixed by its place: a disc (size = radius) or a rotated rectangle (w x h)."""

    name: str
    zone_type: str
    lonlat: tuple[float, float]
    size: tuple[float, ...]
    rotation_deg: float = 0.0
    only_in: str | None = None  # a ward code, where the area must not spill across the river

    def shape(self, ctx: SynthContext) -> BaseGeometry:
        """The area in UTM metres, moved onto the nearest land if its position lies offshore."""
        centre = _onshore(ctx, lonlat_to_utm(*self.lonlat))
        if centre is None:
            return shapely.Polygon()  # not in this context's wards
        x, y = centre
        if len(self.size) == 1:
            return shapely.Point(x, y).buffer(self.size[0], quad_segs=16)
        w, h = self.size
        rect = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        return affinity.rotate(rect, self.rotation_deg, origin=(x, y))


# Earlier overlays win where two overlap. Positions are approximate real ones.
OVERLAYS = (
    # The Kinh thành is a square of about 2.25 km a side, facing south-east across the Hương river.
    Overlay(
        "Khu bảo tồn di sản Kinh thành Huế",
        "heritage_conservation",
        CITADEL_LONLAT,
        (2250, 2250),
        45,
        "19753",
    ),
    Overlay("Khu bảo vệ di tích Lăng Tự Đức", "heritage_conservation", (107.5658, 16.4326), (450,)),
    Overlay("Khu bảo vệ di tích Lăng Đồng Khánh", "heritage_conservation", (107.5700, 16.4302), (250,)),
    Overlay("Khu bảo vệ di tích Lăng Minh Mạng", "heritage_conservation", (107.5683, 16.3877), (550,)),
    Overlay("Khu bảo vệ di tích Lăng Gia Long", "heritage_conservation", (107.5968, 16.3617), (700,)),
    Overlay("Khu bảo vệ di tích Lăng Khải Định", "heritage_conservation", (107.5903, 16.3990), (350,)),
    Overlay("Khu bảo vệ di tích Chùa Thiên Mụ", "heritage_conservation", (107.5450, 16.4524), (300,)),
    Overlay("Khu bảo vệ di tích Chùa Từ Hiếu", "heritage_conservation", (107.5708, 16.4385), (250,)),
    Overlay("Khu bảo vệ di tích Đàn Nam Giao", "heritage_conservation", (107.5806, 16.4449), (250,)),
    Overlay("Khu bảo vệ di tích Hổ Quyền", "heritage_conservation", (107.5281, 16.4486), (200,)),
    Overlay("Cảng hàng không quốc tế Phú Bài", "public_facility", (107.7014, 16.3993), (3400, 800), 8),
    Overlay("Khu công nghiệp Phú Bài", "industrial", (107.6790, 16.3800), (1800, 1000), 30),
    Overlay("Khu công nghiệp Phong Điền", "industrial", (107.3600, 16.5450), (2000, 1200), 35),
    Overlay("Khu công nghiệp Tứ Hạ", "industrial", (107.4800, 16.5150), (900, 600), 35),
    Overlay("Khu công nghiệp La Sơn", "industrial", (107.7350, 16.3300), (1500, 800), 20),
    Overlay("Khu phi thuế quan và công nghiệp Chân Mây", "industrial", (107.9900, 16.3200), (2500, 1200), 10),
    Overlay("Khu du lịch biển Thuận An", "tourism", (107.6420, 16.5630), (1300,)),
    Overlay("Khu du lịch biển Vinh Thanh", "tourism", (107.7950, 16.4700), (900,)),
    Overlay("Khu du lịch biển Cảnh Dương", "tourism", (107.9850, 16.3360), (1000,)),
    Overlay("Khu du lịch nghỉ dưỡng Chân Mây", "tourism", (108.0300, 16.3050), (1200,)),
    Overlay("Khu du lịch biển Lăng Cô", "tourism", (108.0700, 16.2550), (1500,)),
    Overlay("Khu du lịch sinh thái Bạch Mã", "tourism", (107.8658, 16.1970), (1200,)),
    Overlay("Khu du lịch sinh thái phá Tam Giang", "tourism", (107.5700, 16.5900), (700,)),
    Overlay("Khu đô thị mới An Vân Dương", "mixed_use", (107.6250, 16.4550), (2600, 1500), 35),
)

NAME_BY_TYPE = {
    "residential": "Khu dân cư",
    "mixed_use": "Khu hỗn hợp",
    "commercial": "Khu thương mại dịch vụ",
    "industrial": "Cụm công nghiệp",
    "heritage_conservation": "Khu bảo tồn",
    "tourism": "Khu du lịch",
    "public_facility": "Khu công trình công cộng",
    "green_space": "Khu cây xanh công viên",
    "agriculture": "Vùng sản xuất nông nghiệp",
    "forest": "Rừng sản xuất",
}

# (FAR low, FAR high, height low, height high) in metres; None where building is not planned.
LIMITS: dict[str, tuple[float, float, float, float] | None] = {
    "residential": (1.0, 5.0, 10.0, 27.0),
    "mixed_use": (3.5, 7.0, 30.0, 60.0),
    "commercial": (4.5, 9.0, 36.0, 90.0),
    "industrial": (1.0, 1.6, 15.0, 25.0),
    # Inside the Citadel and around the tombs nothing may rise above the old roofs.
    "heritage_conservation": (0.4, 1.2, 6.0, 9.0),
    "tourism": (1.0, 2.5, 12.0, 40.0),
    "public_facility": (1.5, 3.5, 15.0, 30.0),
    "green_space": (0.05, 0.1, 6.0, 8.0),
    "agriculture": None,
    "forest": None,
}


@dataclass(frozen=True)
class Zone:
    """One planning zone in UTM, before reprojection."""

    plan_code: str
    name: str
    zone_type: str
    max_far: float | None
    max_height_m: float | None
    approved_on: date
    ward_code: str
    geom: BaseGeometry


def generate_planning_zones(ctx: SynthContext) -> gpd.GeoDataFrame:
    """Planning zones tiling each ward's land as a ``planning_zones`` layer."""
    zones = planned_zones(ctx)
    records: dict[str, Any] = {
        "plan_code": [z.plan_code for z in zones],
        "name": [z.name for z in zones],
        "zone_type": [z.zone_type for z in zones],
        "max_far": np.array([np.nan if z.max_far is None else z.max_far for z in zones]),
        "max_height_m": np.array([np.nan if z.max_height_m is None else z.max_height_m for z in zones]),
        "approved_on": [z.approved_on for z in zones],
        "ward_code": [z.ward_code for z in zones],
    }
    return to_frame(ctx, PlanningZone, records, [z.geom for z in zones], polygons=True)


def planned_zones(ctx: SynthContext) -> list[Zone]:
    """The zones in UTM, built once per context (parcels and permits are placed by them)."""
    return list(ctx.cached("planning_zones", lambda: _build(ctx)))


def _build(ctx: SynthContext) -> list[Zone]:
    """Lay the special areas first, then tile the rest of each ward with typed Voronoi cells."""
    rng = ctx.rng(SEED_OFFSET)
    shapes = [o.shape(ctx) for o in OVERLAYS]
    citadel = shapes[0]
    # Earlier overlays take precedence: cut each one by all those before it.
    taken = shapely.Polygon()
    exclusive = []
    for shape in shapes:
        exclusive.append(shape.difference(taken))
        taken = taken.union(shape)
    approvals = {o.name: _random_date(rng, date(2019, 6, 1), date(2025, 6, 30)) for o in OVERLAYS}
    zones: list[Zone] = []
    for ward in ctx.models():
        counter = iter(range(1, 1000))
        ward_approval = _random_date(rng, date(2020, 1, 1), date(2025, 10, 31))
        for overlay, piece in zip(OVERLAYS, exclusive, strict=True):
            if overlay.only_in not in (None, ward.code):
                continue
            geom = _clean(piece.intersection(ward.region))
            if geom is None:
                continue
            far, height = _limits(overlay.zone_type, ward, rng)
            zones.append(
                Zone(
                    _code(ward, next(counter)),
                    overlay.name,
                    overlay.zone_type,
                    far,
                    height,
                    approvals[overlay.name],
                    ward.code,
                    geom,
                )
            )
        rest = ward.region.difference(taken)
        names: dict[str, int] = {}
        for cell, zone_type in _cells(ward, rest, rng):
            far, height = _limits(zone_type, ward, rng)
            if far is not None and height is not None and cell.distance(citadel) < CITADEL_BUFFER_M:
                far, height = min(far, BUFFER_LIMITS[0]), min(height, BUFFER_LIMITS[1])
            rp = shapely.get_coordinates(cell.representative_point())[0]
            base = f"{NAME_BY_TYPE[zone_type]} {ward.locality_at(rp)}"
            names[base] = names.get(base, 0) + 1
            name = base if names[base] == 1 else f"{base} {names[base]}"
            zones.append(Zone(_code(ward, next(counter)), name, zone_type, far, height, ward_approval, ward.code, cell))
    return zones


def _cells(ward: WardModel, rest: BaseGeometry, rng: np.random.Generator) -> list[tuple[BaseGeometry, str]]:
    """Cut a ward's remaining land into Voronoi cells and give each a zone type."""
    if rest.area < MIN_ZONE_M2:
        return []
    # More, smaller zones where more people live; a few large ones in the mountains.
    n = int(np.clip(round(ward.population / 5000 + np.sqrt(ward.area_km2)), 6, 45))
    n_dense = round(0.6 * n)
    seeds = np.vstack(
        [
            sample_points(ward, n_dense, rng, within=rest),
            sample_points(ward, n - n_dense, rng, within=rest, background=1.0),
        ]
    )
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=rest.envelope))
    pieces = [_clean(g) for g in shapely.intersection(cells, rest)]
    kept = [g for g in pieces if g is not None]
    if not kept:
        return []
    rp = shapely.get_coordinates(shapely.point_on_surface(np.array(kept, dtype=object)))
    density = ward.density_at(rp)
    rank = density.argsort().argsort() / max(len(kept) - 1, 1)  # 0 = emptiest cell, 1 = densest
    far_away = ward.distance_to_settlement(rp)
    return [(geom, _zone_type(ward, float(r), float(d), rng)) for geom, r, d in zip(kept, rank, far_away, strict=True)]


def _zone_type(ward: WardModel, rank: float, dist_m: float, rng: np.random.Generator) -> str:
    """Pick a zone type from the ward's urbanity, the cell's density rank and its distance to settlements."""
    u = ward.urbanity
    city = ward.level == "ward"
    options: dict[str, float]
    if u >= 0.75:  # the old city and its continuous built-up area
        if rank > 0.7:
            options = {"commercial": 0.35, "mixed_use": 0.35, "residential": 0.2, "public_facility": 0.1}
        else:
            options = {"residential": 0.6, "mixed_use": 0.1, "public_facility": 0.15, "green_space": 0.15}
    elif dist_m > (2500 if u < 0.35 else 3500):
        options = {"forest": 0.85, "agriculture": 0.15}
    elif u >= 0.35:  # peri-urban wards and dense lowland communes
        if rank > 0.6:
            options = {"residential": 0.65, "mixed_use": 0.1 if city else 0.0, "public_facility": 0.15}
            options["commercial"] = 0.1 if city else 0.05
        elif rank > 0.3:
            options = {"residential": 0.35, "agriculture": 0.45, "green_space": 0.1, "public_facility": 0.1}
        else:
            options = {"agriculture": 0.8, "residential": 0.15, "green_space": 0.05}
    elif rank > 0.7:  # village centres in the rural and mountain communes
        options = {"residential": 0.7, "public_facility": 0.15, "commercial": 0.05, "agriculture": 0.1}
    else:
        options = {"agriculture": 0.65, "forest": 0.35} if dist_m < 1500 else {"forest": 0.7, "agriculture": 0.3}
    kinds = list(options)
    p = np.array([options[k] for k in kinds])
    return str(kinds[int(rng.choice(len(kinds), p=p / p.sum()))])


def _limits(zone_type: str, ward: WardModel, rng: np.random.Generator) -> tuple[float | None, float | None]:
    """Maximum FAR and building height for a zone; the city core allows the most."""
    bounds = LIMITS[zone_type]
    if bounds is None:
        return None, None
    far_lo, far_hi, h_lo, h_hi = bounds
    # Housing and mixed use scale with the ward: five storeys in the city, two in the villages.
    t = ward.urbanity if zone_type in ("residential", "mixed_use", "commercial") else rng.random()
    t = float(np.clip(t + rng.normal(0, 0.1), 0, 1))
    far = round(far_lo + t * (far_hi - far_lo), 1)
    height = round(2 * (h_lo + t * (h_hi - h_lo))) / 2
    return max(far, 0.05), max(height, 3.0)


def _onshore(ctx: SynthContext, xy: tuple[float, float]) -> tuple[float, float] | None:
    """The point if on a ward's land, else the nearest land point (coastlines differ); None if far off."""
    ward, off_by = ctx.ward_of(xy)
    if off_by == 0.0:
        return xy
    if off_by > MAX_LANDMARK_OFFSET_M:
        return None
    near = nearest_points(ward.region, shapely.Point(xy))[0]
    return float(near.x), float(near.y)


def _clean(geom: BaseGeometry) -> BaseGeometry | None:
    """Polygon parts of a clipped geometry without slivers, or None if nothing worth a zone is left."""
    # Flatten twice: make_valid may return a collection that holds a MultiPolygon.
    flat = shapely.get_parts(shapely.get_parts(shapely.make_valid(geom)))
    parts = [p for p in flat if p.geom_type == "Polygon"]
    parts = [p for p in parts if p.area >= MIN_PART_M2]
    if not parts or sum(p.area for p in parts) < MIN_ZONE_M2:
        return None
    return shapely.MultiPolygon(parts)


def _code(ward: WardModel, n: int) -> str:
    """Plan code: QH-<ward code>-<number within the ward>."""
    return f"QH-{ward.code}-{n:03d}"


def _random_date(rng: np.random.Generator, start: date, end: date) -> date:
    """A uniformly drawn date in [start, end]."""
    return start + timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def zones_frame_utm(ctx: SynthContext) -> gpd.GeoDataFrame:
    """Zones in UTM with type and ward, for the generators that place things by zone."""
    zones = planned_zones(ctx)
    return gpd.GeoDataFrame(
        {
            "plan_code": [z.plan_code for z in zones],
            "zone_type": [z.zone_type for z in zones],
            "ward_code": [z.ward_code for z in zones],
            "max_height_m": [z.max_height_m for z in zones],
        },
        geometry=[z.geom for z in zones],
        crs="EPSG:32648",
    )
