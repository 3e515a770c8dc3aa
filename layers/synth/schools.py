"""Synthetic schools: kindergartens to upper secondary per ward, and Huế's universities.

School counts follow population (about one primary school per 9,000 residents, one upper
secondary per 27,000) with at least one kindergarten, primary and lower secondary school in
every ward and commune, as Vietnamese law expects. Enrolment comes from the ward's population
through age shares and enrolment rates; upper secondary students go to the nearest upper school,
since communes without one send their pupils to the next. Names follow local custom: the old
commune name or a historical figure; private kindergartens carry a brand name.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo.models import School
from layers.synth.context import XY, SynthContext, WardModel
from layers.synth.frames import to_frame
from layers.synth.sampling import place_near, sample_points

SEED_OFFSET = 202

LEVEL_LABEL = {
    "kindergarten": "Trường Mầm non",
    "primary": "Trường Tiểu học",
    "lower_secondary": "Trường Trung học cơ sở",
    "upper_secondary": "Trường Trung học phổ thông",
}
# Residents per school of each level; kindergartens, primary and lower secondary get at least one.
RESIDENTS_PER_SCHOOL = {
    "kindergarten": 6500,
    "primary": 9000,
    "lower_secondary": 14000,
    "upper_secondary": 27000,
}
# Share of the population of school age and the share of those enrolled (Viet Nam, about 2019-2024).
AGE_SHARE = {"kindergarten": 0.048, "primary": 0.078, "lower_secondary": 0.060, "upper_secondary": 0.044}
ENROLMENT = {"kindergarten": 0.90, "primary": 1.00, "lower_secondary": 0.95, "upper_secondary": 0.72}
# Kernel spread: upper schools sit in the centre of a ward, kindergartens close to the homes.
SPREAD = {"kindergarten": 0.7, "primary": 0.8, "lower_secondary": 0.9, "upper_secondary": 0.6}

FIGURES = (
    "Lê Lợi", "Nguyễn Du", "Trần Hưng Đạo", "Lý Thường Kiệt", "Nguyễn Trãi", "Chu Văn An", "Trần Phú",
    "Lê Quý Đôn", "Nguyễn Tri Phương", "Hàm Nghi", "Duy Tân", "Phan Bội Châu", "Phan Chu Trinh",
    "Huỳnh Thúc Kháng", "Nguyễn Chí Thanh", "Trần Cao Vân", "Lý Tự Trọng", "Võ Thị Sáu", "Kim Đồng",
    "Lương Thế Vinh", "Nguyễn Bỉnh Khiêm", "Tôn Thất Tùng", "Đặng Văn Ngữ", "Lê Hồng Phong",
    "Nguyễn Văn Trỗi", "Hai Bà Trưng", "Bùi Thị Xuân", "Nguyễn Trường Tộ", "Cao Thắng", "Đặng Trần Côn",
    "Phan Đăng Lưu", "Đặng Huy Trứ", "Nguyễn Sinh Cung", "Tố Hữu", "Hoàng Hoa Thám", "Ngô Quyền",
    "Quang Trung", "Nguyễn Hoàng", "Mạc Đĩnh Chi", "Tô Hiến Thành", "Trưng Vương", "Lê Văn Hưu",
    "Hồ Xuân Hương", "Phạm Văn Đồng", "Võ Nguyên Giáp", "Nguyễn Khoa Đăng", "Thân Văn Nhiếp",
)  # fmt: skip
KINDERGARTEN_BRANDS = (
    "Hoa Sen", "Sơn Ca", "Họa Mi", "Hoa Mai", "Tuổi Thơ", "Ánh Dương", "Thiên Thần Nhỏ", "Bé Ngoan",
    "Hoa Hồng", "Vàng Anh", "Mặt Trời Nhỏ", "Ngôi Sao", "Sao Mai", "Búp Sen Xanh", "Hoa Phượng",
    "Hướng Dương", "Cầu Vồng", "Ban Mai", "Hoa Cúc", "Thỏ Ngọc",
)  # fmt: skip
PRIVATE_BRANDS = (
    "Trí Đức",
    "Việt Anh",
    "Hoàng Gia",
    "Ngôi Sao",
    "Trí Tuệ",
    "Hiền Lương",
    "Hòa Bình",
    "Tân Phú Xuân",
)


@dataclass(frozen=True)
class University:
    """A university campus with an approximate real position (lon, lat)."""

    name: str
    ownership: str
    students: int
    lonlat: tuple[float, float]


UNIVERSITIES = (
    University("Trường Đại học Khoa học, Đại học Huế", "public", 9500, (107.5880, 16.4590)),
    University("Trường Đại học Sư phạm, Đại học Huế", "public", 8000, (107.5830, 16.4640)),
    University("Trường Đại học Y - Dược, Đại học Huế", "public", 9000, (107.5915, 16.4600)),
    University("Trường Đại học Nông Lâm, Đại học Huế", "public", 7000, (107.5760, 16.4790)),
    University("Trường Đại học Kinh tế, Đại học Huế", "public", 8000, (107.6000, 16.4470)),
    University("Trường Đại học Ngoại ngữ, Đại học Huế", "public", 6000, (107.6020, 16.4500)),
    University("Trường Đại học Luật, Đại học Huế", "public", 5000, (107.6000, 16.4350)),
    University("Trường Đại học Nghệ thuật, Đại học Huế", "public", 900, (107.5700, 16.4700)),
    University("Học viện Âm nhạc Huế", "public", 800, (107.5740, 16.4680)),
    University("Trường Đại học Phú Xuân", "private", 3000, (107.5935, 16.4650)),
)
# The city's specialist upper secondary school takes pupils from everywhere, so it is placed by hand.
QUOC_HOC = University("Trường Trung học phổ thông chuyên Quốc Học", "public", 1100, (107.5847, 16.4630))


@dataclass
class _Planned:
    """A school before enrolment is shared out."""

    name: str
    level: str
    ownership: str
    ward: WardModel
    xy: XY
    students: int | None = None


def generate_schools(ctx: SynthContext) -> gpd.GeoDataFrame:
    """Kindergartens, primary, lower and upper secondary schools and universities as a ``schools`` layer."""
    rng = ctx.rng(SEED_OFFSET)
    used: set[str] = set()
    # Each level draws from its own shuffled list: "THCS Nguyễn Du" and "THPT Nguyễn Du" may both exist.
    figures = {level: [str(f) for f in rng.permutation(FIGURES)] for level in LEVEL_LABEL}
    planned: list[_Planned] = []
    for ward in ctx.models():
        planned += _plan_ward(ward, rng, used, figures)
    _enrol_local(ctx, planned, rng)
    _enrol_upper(ctx, planned, rng)
    for uni in (QUOC_HOC, *UNIVERSITIES):
        placed = place_near(ctx, uni.lonlat, rng)
        if placed is None:
            continue
        level = "upper_secondary" if uni is QUOC_HOC else "university"
        planned.append(_Planned(uni.name, level, uni.ownership, placed[0], placed[1], uni.students))
        used.add(uni.name)
    records = {
        "name": [p.name for p in planned],
        "school_level": [p.level for p in planned],
        "ownership": [p.ownership for p in planned],
        "students": np.array([p.students or 0 for p in planned], dtype=np.int64),
        "ward_code": [p.ward.code for p in planned],
    }
    geoms = shapely.points(np.vstack([p.xy for p in planned]))
    return to_frame(ctx, School, records, geoms, polygons=False)


def _plan_ward(
    ward: WardModel, rng: np.random.Generator, used: set[str], figures: dict[str, list[str]]
) -> list[_Planned]:
    """Count, name and place one ward's schools (students come later)."""
    out: list[_Planned] = []
    places = list(ward.localities) or [ward.short]
    for level, per in RESIDENTS_PER_SCHOOL.items():
        n = round(ward.population / per)
        if level != "upper_secondary":
            n = max(n, 1)
        private = np.zeros(n, dtype=bool)
        if level == "kindergarten" and n > 1:
            # Private kindergartens fill the gap in the city; a commune's only one stays public.
            private = rng.random(n) < 0.05 + 0.35 * ward.urbanity
        elif ward.urbanity > 0.7 and rng.random() < 0.4:
            private = np.append(private, True)  # a private school on top of the public network
        xy = sample_points(ward, len(private), rng, spread=SPREAD[level])
        for i, is_private in enumerate(private):
            name = _name(level, bool(is_private), ward, places, i, rng, used, figures[level])
            out.append(_Planned(name, level, "private" if is_private else "public", ward, xy[i]))
    return out


def _name(
    level: str,
    private: bool,
    ward: WardModel,
    places: list[str],
    i: int,
    rng: np.random.Generator,
    used: set[str],
    figures: list[str],
) -> str:
    """A Vietnamese school name, unique in the city (a number is added as Huế does)."""
    label = LEVEL_LABEL[level]
    if private:
        brands = KINDERGARTEN_BRANDS if level == "kindergarten" else PRIVATE_BRANDS
        base = f"{label} tư thục {brands[int(rng.integers(len(brands)))]}"
    elif (
        level != "kindergarten"
        and figures
        and ((level == "upper_secondary" and ward.urbanity > 0.45) or rng.random() < 0.6 * ward.urbanity)
    ):
        # City schools are mostly named after historical figures, village schools after the place.
        base = f"{label} {figures.pop()}"
    else:
        base = f"{label} {places[i % len(places)]}"
    name, k = base, 1
    while name in used:
        k += 1
        name = f"{base} {k}"
    used.add(name)
    return name


def _enrol_local(ctx: SynthContext, planned: list[_Planned], rng: np.random.Generator) -> None:
    """Share each ward's kindergarten, primary and lower secondary pupils among its schools."""
    for ward in ctx.models():
        youth = 1 + 0.25 * (1 - ward.urbanity)  # mountain communes are younger
        for level in ("kindergarten", "primary", "lower_secondary"):
            schools = [p for p in planned if p.ward is ward and p.level == level]
            demand = ward.population * AGE_SHARE[level] * ENROLMENT[level] * youth
            _share(schools, demand, rng)


def _enrol_upper(ctx: SynthContext, planned: list[_Planned], rng: np.random.Generator) -> None:
    """Send every ward's upper secondary pupils to its own upper schools, else to the nearest ones."""
    schools = [p for p in planned if p.level == "upper_secondary"]
    if not schools:
        return
    sites = np.vstack([p.xy for p in schools])
    demand = np.zeros(len(schools))
    for ward in ctx.models():
        youth = 1 + 0.25 * (1 - ward.urbanity)
        total = ward.population * AGE_SHARE["upper_secondary"] * ENROLMENT["upper_secondary"] * youth
        own = np.flatnonzero([p.ward is ward for p in schools])
        if len(own) == 0:
            # No upper school at home: pupils ride to the two nearest ones in other wards.
            home = ward.weights @ ward.centres
            own = np.argsort(((sites - home) ** 2).sum(axis=1))[:2]
        demand[own] += total * rng.dirichlet([6.0] * len(own))
    for school, d in zip(schools, demand, strict=True):
        factor = 0.35 if school.ownership == "private" else 1.0
        school.students = int(max(120, round(d * factor)))


def _share(schools: list[_Planned], demand: float, rng: np.random.Generator) -> None:
    """Split a number of pupils among schools; private ones are smaller."""
    weights = rng.dirichlet([6.0] * len(schools)) * np.array(
        [0.45 if s.ownership == "private" else 1.0 for s in schools]
    )
    weights /= weights.sum()
    for school, w in zip(schools, weights, strict=True):
        school.students = int(max(25, round(demand * w)))
