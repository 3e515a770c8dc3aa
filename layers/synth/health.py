"""Synthetic health facilities: the public network of Huế plus private clinics.

Built the way Vietnam's health system is laid out: one commune/ward health station per unit,
central and specialised hospitals clustered in the old city, one regional health centre per
former district (renamed "Trung tâm Y tế khu vực" in 2025) at the old district seat, and private
clinics in proportion to population, weighted to the city. Names and bed counts are plausible,
positions of the named hospitals approximate their real sites; none of it is official data.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo.models import HealthFacility
from layers.synth.context import XY, SynthContext
from layers.synth.frames import to_frame
from layers.synth.sampling import place_near, sample_points

SEED_OFFSET = 101


@dataclass(frozen=True)
class Landmark:
    """A named facility with an approximate real position (lon, lat)."""

    name: str
    facility_type: str
    ownership: str
    beds: int
    lonlat: tuple[float, float]


# Approximate positions; the generator moves each onto land inside the ward found there.
HOSPITALS = (
    Landmark("Bệnh viện Trung ương Huế", "central_hospital", "public", 2600, (107.5882, 16.4627)),
    Landmark("Bệnh viện Trung ương Huế - Cơ sở 2", "central_hospital", "public", 500, (107.4150, 16.5080)),
    # The university hospital answers to the Ministry of Education: a national-level (central) hospital.
    Landmark("Bệnh viện Trường Đại học Y - Dược Huế", "central_hospital", "public", 800, (107.5905, 16.4585)),
    Landmark("Bệnh viện Đa khoa Thành phố Huế", "city_hospital", "public", 600, (107.6020, 16.4560)),
    Landmark("Bệnh viện Mắt Huế", "specialised_hospital", "public", 150, (107.5950, 16.4640)),
    Landmark("Bệnh viện Răng Hàm Mặt Huế", "specialised_hospital", "public", 50, (107.5990, 16.4615)),
    Landmark("Bệnh viện Y học cổ truyền Huế", "specialised_hospital", "public", 200, (107.5760, 16.4560)),
    Landmark("Bệnh viện Phục hồi chức năng Huế", "specialised_hospital", "public", 120, (107.6050, 16.4480)),
    Landmark("Bệnh viện Tâm thần Huế", "specialised_hospital", "public", 200, (107.6250, 16.4300)),
    Landmark("Bệnh viện Lao và Bệnh phổi Huế", "specialised_hospital", "public", 150, (107.5550, 16.4350)),
    Landmark("Bệnh viện Da liễu Huế", "specialised_hospital", "public", 60, (107.5800, 16.4520)),
    Landmark("Bệnh viện Đa khoa khu vực Bình Điền", "regional_hospital", "public", 80, (107.4560, 16.3650)),
    Landmark(
        "Bệnh viện Đa khoa khu vực Chân Mây - Lăng Cô",
        "regional_hospital",
        "public",
        120,
        (108.0600, 16.2560),
    ),
    Landmark("Bệnh viện Đa khoa Hương Giang", "private_hospital", "private", 120, (107.5980, 16.4700)),
    Landmark("Bệnh viện Đa khoa An Cựu", "private_hospital", "private", 150, (107.6030, 16.4480)),
    Landmark("Bệnh viện Sản Nhi Phú Xuân", "private_hospital", "private", 80, (107.5750, 16.4850)),
    Landmark("Bệnh viện Đa khoa Phú Bài", "private_hospital", "private", 60, (107.7000, 16.4080)),
)

# One regional health centre per former district, at the old district seat (GeoNames PPLA2 / ADM2).
HEALTH_CENTRES = (
    ("Phong Điền", 190, (107.3644, 16.5832)),
    ("Quảng Điền", 150, (107.5107, 16.5745)),
    ("Hương Trà", 140, (107.4755, 16.5254)),
    ("Phú Vang", 160, (107.7144, 16.4391)),
    ("Hương Thủy", 150, (107.6920, 16.4050)),
    ("Phú Lộc", 180, (107.8590, 16.2804)),
    ("Nam Đông", 90, (107.7179, 16.1691)),
    ("A Lưới", 140, (107.2339, 16.2723)),
    ("Thuận Hóa", 100, (107.5970, 16.4540)),
    ("Phú Xuân", 100, (107.5700, 16.4820)),
)

CLINIC_KINDS = (
    ("Phòng khám Đa khoa", 3.0, (4, 15)),
    ("Phòng khám Nội tổng hợp", 1.5, (0, 3)),
    ("Phòng khám Nhi", 1.5, (0, 2)),
    ("Phòng khám Răng Hàm Mặt", 1.8, (0, 0)),
    ("Phòng khám Sản phụ khoa", 1.2, (0, 3)),
    ("Phòng khám Mắt", 0.6, (0, 0)),
    ("Phòng khám Tai Mũi Họng", 0.7, (0, 0)),
    ("Phòng khám Y học cổ truyền", 0.8, (0, 4)),
    ("Phòng khám Da liễu", 0.5, (0, 0)),
    ("Phòng khám Chẩn đoán hình ảnh", 0.4, (0, 0)),
)
CLINIC_BRANDS = (
    "An Bình", "An Khang", "An Phúc", "Bình An", "Hạnh Phúc", "Hòa Bình", "Hồng Đức", "Hương Giang",
    "Khang An", "Minh Tâm", "Minh Đức", "Ngự Bình", "Nhân Ái", "Phúc An", "Phúc Khang", "Sông Hương",
    "Tâm An", "Tâm Đức", "Thái An", "Thiên Ân", "Thiện Tâm", "Thuận An", "Trường An", "Vạn Phúc",
    "Việt Đức", "Vĩnh An", "Gia An", "Đức Tâm", "Kim Long", "Hoàng Gia",
)  # fmt: skip

# Private clinics per resident, scaled by urbanity: the city has many, the mountains almost none.
CLINICS_PER_PERSON = 1 / 3200


def generate_health_facilities(ctx: SynthContext) -> gpd.GeoDataFrame:
    """Health stations, hospitals, regional centres and clinics as a ``health_facilities`` layer."""
    rng = ctx.rng(SEED_OFFSET)
    rows: list[tuple[str, str, str, int | None, str]] = []
    points: list[XY] = []

    for ward in ctx.models():
        # A health station sits by the People's Committee: next to the ward's strongest centre.
        xy = sample_points(ward, 1, rng, within=_disc(ward.region, ward.seat, 400.0), background=0.0)[0]
        rows.append((f"Trạm y tế {ward.name}", "health_station", "public", int(rng.integers(3, 11)), ward.code))
        points.append(xy)

    for h in HOSPITALS:
        placed = place_near(ctx, h.lonlat, rng)
        if placed is not None:
            rows.append((h.name, h.facility_type, h.ownership, h.beds, placed[0].code))
            points.append(placed[1])

    for area, beds, lonlat in HEALTH_CENTRES:
        placed = place_near(ctx, lonlat, rng, radius_m=250.0)
        if placed is not None:
            rows.append((f"Trung tâm Y tế khu vực {area}", "health_centre", "public", beds, placed[0].code))
            points.append(placed[1])

    used = {r[0] for r in rows}
    kinds = np.array([k[1] for k in CLINIC_KINDS])
    for ward in ctx.models():
        # Regional public polyclinics serve the larger rural communes far from a hospital.
        if ward.level == "commune" and ward.population > 30_000:
            place = ward.localities[0] if ward.localities else ward.short
            rows.append((f"Phòng khám Đa khoa khu vực {place}", "clinic", "public", 10, ward.code))
            points.append(sample_points(ward, 1, rng, spread=0.5)[0])
        n = int(rng.poisson(ward.population * CLINICS_PER_PERSON * (0.15 + ward.urbanity)))
        xy = sample_points(ward, n, rng, spread=0.6)
        for i in range(n):
            kind, _, (lo, hi) = CLINIC_KINDS[int(rng.choice(len(CLINIC_KINDS), p=kinds / kinds.sum()))]
            name = _unique(f"{kind} {CLINIC_BRANDS[int(rng.integers(len(CLINIC_BRANDS)))]}", used)
            rows.append((name, "clinic", "private", int(rng.integers(lo, hi + 1)), ward.code))
            points.append(xy[i])

    columns = list(zip(*rows, strict=True))
    records = {
        "name": list(columns[0]),
        "facility_type": list(columns[1]),
        "ownership": list(columns[2]),
        "beds": np.asarray(columns[3], dtype=np.int64),
        "ward_code": list(columns[4]),
    }
    geoms = shapely.points(np.vstack(points))
    return to_frame(ctx, HealthFacility, records, geoms, polygons=False)


def _disc(region: shapely.Geometry, xy: XY, radius_m: float) -> shapely.Geometry:
    """The part of a ward's land within ``radius_m`` of a point, or the whole land if that is empty."""
    near = region.intersection(shapely.Point(xy).buffer(radius_m))
    return near if near.area > 100.0 else region


def _unique(name: str, used: set[str]) -> str:
    """Make a facility name unique by adding a branch number, as chains do ("cơ sở 2")."""
    candidate, k = name, 1
    while candidate in used:
        k += 1
        candidate = f"{name} - cơ sở {k}"
    used.add(candidate)
    return candidate
