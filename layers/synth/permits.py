"""Synthetic construction permits (giấy phép xây dựng), 2020 to October 2026.

Permits land where building happens: mostly on home lots in the city and the peri-urban wards,
on a cadastral parcel where the sample has one, otherwise in a residential, mixed-use or
commercial zone drawn by population. Issue dates follow Huế's building season: busy from January
to August, quiet in the October-November flood months and around Tết, with a COVID dip in
2020-2021. A permit lapses if work has not started within 12 months (Construction Law, Art. 99),
and the status of each permit is read at a fixed reference date so the output never depends on
today's date.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.models import ConstructionPermit
from layers.synth.context import XY, SynthContext, WardModel
from layers.synth.frames import to_frame
from layers.synth.parcels import parcels_utm
from layers.synth.planning import zones_frame_utm
from layers.synth.sampling import pick, sample_points

SEED_OFFSET = 505
REFERENCE_DATE = date(2026, 11, 1)
FIRST_YEAR = 2020
# Permits per resident over the whole period, scaled by urbanity (0.3 + urbanity).
PERMITS_PER_PERSON = 1 / 200
# A permit drawn this close to a surveyed home or business lot is put on that lot.
SNAP_M = 40.0

# Building season: dry months busy, Tết (Jan/Feb) and the flood months (Oct-Nov) quiet.
MONTH_WEIGHT = np.array([1.0, 0.7, 1.2, 1.25, 1.25, 1.2, 1.15, 1.1, 0.9, 0.55, 0.5, 0.8])
YEAR_WEIGHT = {2020: 0.8, 2021: 0.75, 2022: 1.0, 2023: 0.95, 2024: 1.1, 2025: 1.0, 2026: 1.15}

# Where permits go, by zone type (relative weights).
ZONE_WEIGHT = {
    "residential": 0.72,
    "mixed_use": 0.1,
    "commercial": 0.07,
    "tourism": 0.03,
    "heritage_conservation": 0.03,
    "public_facility": 0.03,
    "industrial": 0.02,
}
PERMIT_TYPE_BY_ZONE: dict[str, dict[str, float]] = {
    "residential": {
        "new_build": 0.58,
        "renovation": 0.22,
        "repair": 0.1,
        "demolition": 0.04,
        "temporary": 0.06,
    },
    # In the Citadel most work is repair and renovation of the old garden houses.
    "heritage_conservation": {"new_build": 0.2, "renovation": 0.4, "repair": 0.35, "temporary": 0.05},
    "mixed_use": {
        "new_build": 0.6,
        "renovation": 0.25,
        "repair": 0.05,
        "demolition": 0.05,
        "temporary": 0.05,
    },
    "commercial": {
        "new_build": 0.6,
        "renovation": 0.25,
        "repair": 0.05,
        "demolition": 0.05,
        "temporary": 0.05,
    },
    "tourism": {"new_build": 0.65, "renovation": 0.25, "repair": 0.05, "temporary": 0.05},
    "industrial": {"new_build": 0.7, "renovation": 0.15, "demolition": 0.05, "temporary": 0.1},
    "public_facility": {"new_build": 0.5, "renovation": 0.3, "repair": 0.2},
}
USE_BY_ZONE: dict[str, dict[str, float]] = {
    "residential": {"house": 0.9, "shophouse": 0.1},
    "heritage_conservation": {"house": 0.85, "religious": 0.1, "shophouse": 0.05},
    "mixed_use": {"shophouse": 0.4, "house": 0.3, "office": 0.15, "apartment": 0.1, "hotel": 0.05},
    "commercial": {"retail": 0.3, "office": 0.25, "hotel": 0.3, "shophouse": 0.15},
    "tourism": {"hotel": 0.6, "resort": 0.3, "retail": 0.1},
    "industrial": {"factory": 0.6, "warehouse": 0.4},
    "public_facility": {"school": 0.4, "clinic": 0.2, "public_building": 0.4},
}
# floors (low, high), footprint m² (low, high), construction days (low, high), Vietnamese label
USE_PROFILE: dict[str, tuple[tuple[int, int], tuple[float, float], tuple[int, int], str]] = {
    "house": ((1, 5), (50, 160), (150, 330), "nhà ở riêng lẻ"),
    "shophouse": ((3, 6), (60, 130), (180, 360), "nhà ở kết hợp kinh doanh"),
    "apartment": ((9, 25), (800, 2500), (500, 900), "nhà chung cư"),
    "hotel": ((5, 15), (300, 1500), (400, 800), "khách sạn"),
    "resort": ((1, 4), (200, 1500), (300, 700), "khu nghỉ dưỡng"),
    "office": ((5, 12), (300, 1200), (360, 700), "tòa nhà văn phòng"),
    "retail": ((1, 4), (100, 800), (150, 360), "cửa hàng thương mại"),
    "factory": ((1, 2), (1000, 8000), (200, 450), "nhà xưởng"),
    "warehouse": ((1, 1), (500, 4000), (120, 300), "nhà kho"),
    "school": ((2, 5), (600, 2000), (300, 540), "trường học"),
    "clinic": ((2, 5), (150, 600), (240, 450), "phòng khám"),
    "public_building": ((2, 4), (300, 1500), (300, 540), "công trình công cộng"),
    "religious": ((1, 2), (100, 400), (200, 500), "công trình tín ngưỡng"),
}
TYPE_LABEL = {
    "new_build": "Xây dựng mới",
    "renovation": "Cải tạo",
    "repair": "Sửa chữa",
    "demolition": "Phá dỡ",
    "temporary": "Xây dựng có thời hạn",
}
# Work lasts this long for the lighter permit types, whatever the building.
SHORT_WORKS = {"repair": (30, 120), "demolition": (10, 60), "temporary": (60, 180)}


def generate_construction_permits(ctx: SynthContext, parcels: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Building permits with seasonal issue dates and statuses at 2026-11-01, as ``construction_permits``.

    ``parcels`` is the ``land_parcels`` layer (EPSG:4326) to place permits on; by default the
    parcels this context generates, so that the result does not depend on the call order.
    """
    rng = ctx.rng(SEED_OFFSET)
    lots = parcels_utm(ctx) if parcels is None else _parcels_to_utm(parcels)
    zones = zones_frame_utm(ctx)
    sites = _place(ctx, lots, zones, rng)
    n = len(sites)
    issued = _issue_dates(n, rng)
    kinds = [pick(PERMIT_TYPE_BY_ZONE[z], rng) for z in sites["zone_type"]]
    uses = [_building_use(z, lu, rng) for z, lu in zip(sites["zone_type"], sites["land_use"], strict=True)]
    floors, floor_area = _size(sites, kinds, uses, rng)
    expires = [_expiry(d, k, rng) for d, k in zip(issued, kinds, strict=True)]
    status = [_status(d, e, k, u, rng) for d, e, k, u in zip(issued, expires, kinds, uses, strict=True)]
    order = np.lexsort((np.arange(n), np.array(issued, dtype="datetime64[D]")))
    permit_no = _numbers([issued[i] for i in order])
    names = [_project_name(kinds[i], uses[i], floors[i], sites.iloc[i]) for i in range(n)]
    records: dict[str, Any] = {
        "permit_no": permit_no,
        "project_name": [names[i] for i in order],
        "permit_type": [kinds[i] for i in order],
        "building_use": [uses[i] for i in order],
        "floors": pd.array([floors[i] for i in order], dtype="Int16"),
        "floor_area_m2": np.array([np.nan if floor_area[i] is None else floor_area[i] for i in order]),
        "status": [status[i] for i in order],
        "issued_on": [issued[i] for i in order],
        "expires_on": [expires[i] for i in order],
        "ward_code": sites["ward_code"].to_numpy()[order].tolist(),
    }
    geoms = shapely.points(np.column_stack([sites["x"].to_numpy(), sites["y"].to_numpy()])[order])
    return to_frame(ctx, ConstructionPermit, records, geoms, polygons=False)


def _parcels_to_utm(parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A caller's parcel layer in UTM with the columns permits use."""
    needed = {"parcel_no", "map_sheet", "land_use", "area_m2", "ward_code"}
    missing = sorted(needed - set(parcels.columns))
    if missing:
        raise ValueError(f"parcels lacks columns {missing}")
    return parcels[[*sorted(needed), parcels.geometry.name]].to_crs("EPSG:32648")


def _place(
    ctx: SynthContext, lots: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Where each permit is: drawn by population within zones, then moved onto a surveyed lot nearby."""
    rows: list[pd.DataFrame] = []
    for ward in ctx.models():
        n = int(rng.poisson(ward.population * PERMITS_PER_PERSON * (0.3 + ward.urbanity)))
        rows += _in_zones(ward, zones[zones["ward_code"] == ward.code], n, rng)
    sites = _onto_lots(pd.concat(rows, ignore_index=True), lots)
    return _with_zone(sites, zones, ctx)


def _onto_lots(sites: pd.DataFrame, lots: gpd.GeoDataFrame) -> pd.DataFrame:
    """Move permits that fall on a surveyed map sheet onto the nearest home or business lot."""
    buildable = lots[lots["land_use"].isin(["ODT", "ONT", "TMD"])]
    if buildable.empty:
        return sites
    points = gpd.GeoDataFrame(
        sites[["ward_code"]], geometry=gpd.points_from_xy(sites["x"], sites["y"]), crs=buildable.crs
    )
    near = gpd.sjoin_nearest(
        points,
        buildable[["parcel_no", "map_sheet", "land_use", "area_m2", "ward_code", buildable.geometry.name]],
        max_distance=SNAP_M,
        lsuffix="site",
        rsuffix="lot",
    )
    near = near[near["ward_code_site"] == near["ward_code_lot"]]
    # One permit per lot: a second permit landing on the same lot stays where it was drawn.
    near = near[~near.index.duplicated(keep="first")].drop_duplicates("parcel_no", keep="first")
    lot_xy = buildable.set_index("parcel_no").geometry.representative_point()
    xy = shapely.get_coordinates(lot_xy.loc[near["parcel_no"]].values)
    sites = sites.copy()
    sites.loc[near.index, "x"] = xy[:, 0]
    sites.loc[near.index, "y"] = xy[:, 1]
    sites.loc[near.index, "land_use"] = near["land_use"].to_numpy()
    sites.loc[near.index, "parcel_no"] = near["parcel_no"].to_numpy()
    sites.loc[near.index, "map_sheet"] = near["map_sheet"].to_numpy()
    sites.loc[near.index, "lot_m2"] = near["area_m2"].to_numpy()
    return sites


def _in_zones(ward: WardModel, zones: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> list[pd.DataFrame]:
    """Permits off the cadastral sample: zone type by weight, point by population within it."""
    present = [z for z in ZONE_WEIGHT if (zones["zone_type"] == z).any()]
    if n <= 0:
        return []
    if not present:
        xy = sample_points(ward, n, rng)
        return [_free_sites(ward, xy)]
    p = np.array([ZONE_WEIGHT[z] for z in present])
    counts = rng.multinomial(n, p / p.sum())
    out = []
    for zone_type, k in zip(present, counts, strict=True):
        if k == 0:
            continue
        area = shapely.union_all(zones.loc[zones["zone_type"] == zone_type].geometry.values)
        out.append(_free_sites(ward, sample_points(ward, int(k), rng, within=area)))
    return out


def _free_sites(ward: WardModel, xy: XY) -> pd.DataFrame:
    """Permit sites that are not on a surveyed parcel."""
    return pd.DataFrame(
        {
            "ward_code": ward.code,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "land_use": pd.Series([None] * len(xy), dtype=object),
            "parcel_no": pd.Series([None] * len(xy), dtype=object),
            "map_sheet": np.full(len(xy), np.nan),
            "lot_m2": np.full(len(xy), np.nan),
        }
    )


def _with_zone(sites: pd.DataFrame, zones: gpd.GeoDataFrame, ctx: SynthContext) -> pd.DataFrame:
    """Add the planning zone type and height limit at each site (residential where unzoned)."""
    points = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites["x"], sites["y"]), crs=zones.crs)
    joined = gpd.sjoin(points, zones[["zone_type", "max_height_m", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    out = pd.DataFrame(joined.drop(columns=["geometry", "index_right"]))
    # A parcel's own use beats the zone (a TMD lot in a residential zone is a shop), except in
    # heritage zones, where conservation rules decide what may be built on any lot.
    zone_type = out["zone_type"].fillna("residential")
    own_rules = zone_type != "heritage_conservation"
    zone_type = zone_type.mask(own_rules & out["land_use"].isin(["ODT", "ONT"]), "residential")
    zone_type = zone_type.mask(own_rules & (out["land_use"] == "TMD"), "commercial")
    out["zone_type"] = zone_type.where(zone_type.isin(list(ZONE_WEIGHT)), "residential")
    out["urbanity"] = out["ward_code"].map({m.code: m.urbanity for m in ctx.models()})
    out["ward_name"] = out["ward_code"].map({m.code: m.name for m in ctx.models()})
    out["level"] = out["ward_code"].map({m.code: m.level for m in ctx.models()})
    return out.reset_index(drop=True)


def _issue_dates(n: int, rng: np.random.Generator) -> list[date]:
    """Issue dates from January 2020 to October 2026, seasonal and with yearly swings."""
    months = [
        (y, m)
        for y in range(FIRST_YEAR, REFERENCE_DATE.year + 1)
        for m in range(1, 13)
        if date(y, m, 1) < REFERENCE_DATE
    ]
    w = np.array([YEAR_WEIGHT[y] * MONTH_WEIGHT[m - 1] for y, m in months])
    picks = rng.choice(len(months), size=n, p=w / w.sum())
    out = []
    for i in picks:
        y, m = months[int(i)]
        last = calendar.monthrange(y, m)[1]
        out.append(date(y, m, int(rng.integers(1, last + 1))))
    return out


def _expiry(issued: date, kind: str, rng: np.random.Generator) -> date:
    """Work must start within 12 months; a temporary permit lasts until the plan is carried out."""
    if kind == "temporary":
        return _add_months(issued, 12 * int(rng.integers(2, 6)))
    return _add_months(issued, 12)


def _status(issued: date, expires: date, kind: str, use: str, rng: np.random.Generator) -> str:
    """Status at the reference date from a simulated start delay and construction time."""
    if (REFERENCE_DATE - issued).days > 60 and rng.random() < 0.01:
        return "revoked"
    if kind == "temporary":
        # A temporary building stands for its term, then the permit has run out.
        if expires <= REFERENCE_DATE:
            return "expired"
        delay: int | None = min(int(rng.gamma(1.5, 45.0)), 300)
    else:
        # Most owners start within a few months; some never do and the permit lapses after 12.
        delay = None if rng.random() < 0.07 else int(rng.gamma(1.5, 45.0))
    if delay is None or issued + timedelta(days=delay) >= expires:
        return "expired" if expires <= REFERENCE_DATE else "issued"
    lo, hi = SHORT_WORKS.get(kind, USE_PROFILE[use][2])
    start = issued + timedelta(days=delay)
    if start > REFERENCE_DATE:
        return "issued"
    if start + timedelta(days=int(rng.integers(lo, hi + 1))) > REFERENCE_DATE:
        return "under_construction"
    return "completed"


def _building_use(zone_type: str, land_use: str | None, rng: np.random.Generator) -> str:
    """What is built, from the zone (or the lot's land use)."""
    if land_use == "TMD":
        return pick({"shophouse": 0.5, "retail": 0.3, "hotel": 0.1, "office": 0.1}, rng)
    return pick(USE_BY_ZONE[zone_type], rng)


def _size(
    sites: pd.DataFrame, kinds: list[str], uses: list[str], rng: np.random.Generator
) -> tuple[list[int | None], list[float | None]]:
    """Floors and floor area of each permitted building, capped by the zone's height limit."""
    floors: list[int | None] = []
    areas: list[float | None] = []
    for i, (kind, use) in enumerate(zip(kinds, uses, strict=True)):
        if kind == "demolition":
            floors.append(None)
            areas.append(None)
            continue
        (f_lo, f_hi), (a_lo, a_hi), _, _ = USE_PROFILE[use]
        row = sites.iloc[i]
        if use == "house":
            # Three-storey tube houses in the city, one or two storeys in the villages.
            f_hi = 5 if row["urbanity"] > 0.6 else 3
        f = int(rng.integers(f_lo, f_hi + 1))
        if kind == "temporary":
            f = min(f, 2)
        if pd.notna(row["max_height_m"]):
            f = max(1, min(f, int(row["max_height_m"] // 3.3)))
        lot = row["lot_m2"]
        footprint = (
            min(float(lot) * rng.uniform(0.55, 0.9), a_hi * 2) if pd.notna(lot) else float(rng.uniform(a_lo, a_hi))
        )
        floors.append(f)
        areas.append(round(footprint * f, 1))
    return floors, areas


def _project_name(kind: str, use: str, floors: int | None, site: pd.Series) -> str:
    """A permit title as written on Vietnamese permits: work, building, and where."""
    label = USE_PROFILE[use][3]
    what = f"{TYPE_LABEL[kind]} {label}"
    if floors and floors >= 5:
        what += f" {floors} tầng"
    if isinstance(site["parcel_no"], str):
        number = site["parcel_no"].rsplit("-", 1)[1]
        return f"{what}, thửa đất số {number}, tờ bản đồ số {int(site['map_sheet'])}, {site['ward_name']}"
    # Neighbourhoods are numbered: tổ dân phố in wards, thôn in communes; the number follows the place.
    unit = "Tổ dân phố" if site["level"] == "ward" else "Thôn"
    neighbourhood = 1 + (int(site["x"] // 250) * 7 + int(site["y"] // 250) * 13) % 24
    return f"{what}, {unit} {neighbourhood}, {site['ward_name']}"


def _numbers(issued_sorted: list[date]) -> list[str]:
    """Permit numbers GPXD-<year>-<six-digit sequence within the year>, in order of issue."""
    seq: dict[int, int] = {}
    out = []
    for d in issued_sorted:
        seq[d.year] = seq.get(d.year, 0) + 1
        out.append(f"GPXD-{d.year}-{seq[d.year]:06d}")
    return out


def _add_months(d: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))
