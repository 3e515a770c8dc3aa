"""Readers of the data the platform ships (``layers/data``): each returns a GeoDataFrame in
EPSG:4326 with its table's columns. No database here: ``layers/loaders.py`` writes them.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

DATA_DIR = Path(__file__).resolve().parent / "data"
WARDS_FILE = DATA_DIR / "admin" / "hue_xa_phuong_2025.geojson"
CITY_FILE = DATA_DIR / "admin" / "hue_ranh_gioi_thanh_pho_2025.geojson"
GEONAMES_FILE = DATA_DIR / "poi" / "hue_geonames_dia_danh.geojson"
ROADS_FILE = DATA_DIR / "transport" / "quoc_lo_duong_sat_hue.geojson"
WATER_FILE = DATA_DIR / "water" / "hue_bien_dam_pha_gshhg.geojson"
RIVERS_FILE = DATA_DIR / "water" / "hue_song_gshhg_wdb2.geojson"
STORMS_FILE = DATA_DIR / "hazard" / "bao_jtwc_qua_hue_300km_1945_2021.geojson"
DAMS_FILE = DATA_DIR / "hazard" / "thuy_dien_hue.geojson"

CITY_CODE = "46"  # GSO code of Thành phố Huế
SRC_ADMIN = "DiaPhan_Xa_2025 via thaipeace/vnmadministrative; sapnhap.bando.com.vn metadata"
SRC_GEONAMES = "GeoNames VN export 2020-01-15 (CC BY 4.0)"
SRC_GSHHG = "GSHHG 2.3.6 (LGPL-3.0-or-later)"
TOURISM_THEMES = ("tourism", "religion")


# --- small helpers ----------------------------------------------------------------------


def ascii_name(name: str) -> str:
    """'Phường Thuận Hóa' -> 'Phuong Thuan Hoa' (for search and file names)."""
    name = name.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))


def _multi(geoms: gpd.GeoSeries, kind: str) -> gpd.GeoSeries:
    """Repair invalid geometries, keep the parts of ``kind`` and promote them to Multi*."""
    fixed = shapely.make_valid(geoms.values)
    out = []
    for geom in fixed:
        parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == kind]
        if not parts:
            raise ValueError(f"no {kind} left after repairing a geometry")
        out.append(shapely.MultiPolygon(parts) if kind == "Polygon" else shapely.MultiLineString(parts))
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)


def _frame(df: pd.DataFrame, geom: gpd.GeoSeries, source: str, synthetic: bool = False) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(df.reset_index(drop=True), geometry=geom.reset_index(drop=True).values, crs=4326)
    out = out.rename_geometry("geom")
    out["source"] = source
    out["synthetic"] = synthetic
    return out


def _none_if_zero(values: pd.Series) -> pd.Series:
    return values.where(values.fillna(0) != 0, None)


# --- readers of the shipped real data ---------------------------------------------------


@cache
def read_wards() -> gpd.GeoDataFrame:
    """The 40 wards/communes with official codes, population and area."""
    raw = gpd.read_file(WARDS_FILE)
    df = pd.DataFrame(
        {
            "code": raw["ma_xa_bnv"].astype(str),
            "name": raw["ten"],
            "name_ascii": raw["ten"].map(ascii_name),
            "level": raw["loai"].map({"Phường": "ward", "Xã": "commune"}),
            "parent_code": CITY_CODE,
            "population": raw["dan_so_sapnhap"].astype("Int64"),
            "area_km2": raw["dien_tich_km2_sapnhap"].fillna(raw["dien_tich_km2_tinh"]).astype(float),
            "seat": raw["tru_so"],
            "merged_from": raw["truoc_sap_nhap"],
        }
    )
    if df["level"].isna().any():
        raise ValueError(f"unknown unit type in {WARDS_FILE.name}: {sorted(set(raw['loai']))}")
    return _frame(df, _multi(_without_overlaps(raw.geometry), "Polygon"), SRC_ADMIN)


def _without_overlaps(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Remove the slivers where neighbours overlap (< 0.0001 km² in all, from coordinate rounding).

    Each polygon gives up what it shares with the polygons before it, so every point of the city
    lies in exactly one unit and a point-in-unit lookup has a single answer.
    """
    fixed = list(shapely.make_valid(geoms.values))
    tree = shapely.STRtree(fixed)
    for i in range(len(fixed)):
        earlier = [j for j in tree.query(fixed[i], predicate="intersects") if j < i]
        if earlier:
            fixed[i] = shapely.difference(fixed[i], shapely.union_all([fixed[j] for j in earlier]), grid_size=1e-7)
    return gpd.GeoSeries(fixed, index=geoms.index, crs=geoms.crs)


def read_admin_units() -> gpd.GeoDataFrame:
    """The city row followed by its 40 wards/communes."""
    city = gpd.read_file(CITY_FILE).iloc[0]
    wards = read_wards()
    city_row = pd.DataFrame(
        {
            "code": [CITY_CODE],
            "name": [city["ten"]],
            "name_ascii": [ascii_name(city["ten"])],
            "level": ["city"],
            "parent_code": [None],
            "population": [int(city["dan_so_sapnhap"])],
            "area_km2": [float(city["dien_tich_km2_sapnhap"])],
            "seat": [None],
            "merged_from": [None],
        }
    )
    city_frame = _frame(city_row, _multi(gpd.GeoSeries([city.geometry], crs=4326), "Polygon"), SRC_ADMIN)
    return pd.concat([city_frame, wards], ignore_index=True)


@cache
def _geonames_in_city() -> gpd.GeoDataFrame:
    raw = gpd.read_file(GEONAMES_FILE)
    return raw[raw["trong_thanh_pho_hue"].astype(bool)].reset_index(drop=True)


def read_tourism_sites() -> gpd.GeoDataFrame:
    """GeoNames monuments, tombs, pagodas, parks and hotels inside the city."""
    raw = _geonames_in_city()
    raw = raw[raw["theme"].isin(TOURISM_THEMES)]
    df = pd.DataFrame(
        {
            "name": raw["name"],
            "name_vi": raw["ten_vi"],
            "kind": raw["feature_code_mo_ta"],
            "theme": raw["theme"],
            "geonames_id": raw["geonameid"].astype(int),
            "elevation_m": raw["elevation"].fillna(raw["dem"]).astype(float),
            "quality_note": raw["ghi_chu"],
            "ward_code": raw["ma_xa_phuong_2025"].astype(str),
        }
    )
    return _frame(df, raw.geometry, SRC_GEONAMES)


def read_places() -> gpd.GeoDataFrame:
    """GeoNames named places inside the city that are neither tourism sites nor universities."""
    raw = _geonames_in_city()
    raw = raw[~raw["theme"].isin((*TOURISM_THEMES, "education"))]
    df = pd.DataFrame(
        {
            "geonames_id": raw["geonameid"].astype(int),
            "name": raw["name"],
            "name_vi": raw["ten_vi"],
            "feature_code": raw["feature_code"],
            "kind": raw["feature_code_mo_ta"],
            "group_name": raw["nhom"],
            "ward_code": raw["ma_xa_phuong_2025"].astype(str),
        }
    )
    return _frame(df, raw.geometry, SRC_GEONAMES)


def read_universities() -> gpd.GeoDataFrame:
    """Universities from GeoNames, as rows of the schools layer."""
    raw = _geonames_in_city()
    raw = raw[raw["feature_code"] == "UNIV"]
    df = pd.DataFrame(
        {
            "name": raw["ten_vi"].fillna(raw["name"]),
            "school_level": "university",
            "ownership": "public",
            "students": None,
            "ward_code": raw["ma_xa_phuong_2025"].astype(str),
        }
    )
    return _frame(df, raw.geometry, SRC_GEONAMES)


def _road_ref(name: str) -> str | None:
    for prefix, short in (("Quốc lộ ", "QL"), ("Tỉnh lộ ", "TL")):
        if name.startswith(prefix):
            return short + name.removeprefix(prefix)
    return None


def read_roads() -> gpd.GeoDataFrame:
    """National and provincial roads and the railway."""
    raw = gpd.read_file(ROADS_FILE)
    road_class = raw["loai_duong"].eq("Đường sắt").map({True: "railway", False: None})
    road_class = road_class.fillna(raw["cap_duong"].map({"Quốc Gia": "national", "Cấp Tỉnh": "provincial"}))
    if road_class.isna().any():
        raise ValueError(f"unknown road class in {ROADS_FILE.name}")
    df = pd.DataFrame(
        {
            "ref": raw["ten"].map(_road_ref),
            "name": raw["ten"],
            "road_class": road_class,
            "length_km_in_city": raw["chieu_dai_km_trong_tp_hue"].astype(float),
        }
    )
    return _frame(df, _multi(raw.geometry, "LineString"), "CTU-SematX/LegoCity giaothong (CC BY-SA 4.0)")


def read_water_areas() -> gpd.GeoDataFrame:
    """Sea and lagoon polygons."""
    raw = gpd.read_file(WATER_FILE)
    df = pd.DataFrame(
        {
            "code": raw["ma"],
            # One small lagoon near Chân Mây has no name in any source.
            "name": raw["ten"].fillna("Đầm nhỏ chưa đặt tên gần Chân Mây"),
            "water_type": raw["loai"].map({"bien": "sea", "dam_pha": "lagoon"}).fillna("other"),
            "area_km2_in_city": raw["dien_tich_km2_trong_tp_hue"].astype(float),
        }
    )
    return _frame(df, _multi(raw.geometry, "Polygon"), SRC_GSHHG)


def read_rivers() -> gpd.GeoDataFrame:
    """Main river lines (names inferred from GeoNames where the evidence allows)."""
    raw = gpd.read_file(RIVERS_FILE)
    df = pd.DataFrame(
        {
            "gshhg_id": raw["gshhg_rivers_f_stt"].astype(int),
            "name": raw["ten_goi_y"],
            "name_basis": raw["co_so_goi_y"],
            "length_km_in_city": raw["do_dai_km_trong_tp_hue"].astype(float),
        }
    )
    return _frame(df, raw.geometry, SRC_GSHHG)


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, format="%Y-%m-%dT%HZ", utc=True)


def read_storm_tracks() -> gpd.GeoDataFrame:
    """JTWC best tracks of storms passing within 300 km of the city."""
    raw = gpd.read_file(STORMS_FILE)
    df = pd.DataFrame(
        {
            "storm_id": raw["SN"].astype(int),
            "year": raw["nam"].astype(int),
            "number_in_year": raw["so_hieu_trong_nam"].astype(int),
            "started_at": _utc(raw["bat_dau"]),
            "ended_at": _utc(raw["ket_thuc"]),
            "peak_wind_kt": raw["vmax_kt_lon_nhat"].astype(float),
            "min_pressure_hpa": raw["mslp_hpa_nho_nhat"].astype(float),
            "peak_category": raw["cap_lon_nhat"],
            "closest_km": raw["khoang_cach_gan_nhat_km"].astype(float),
            "closest_at": _utc(raw["thoi_diem_gan_nhat"]),
            "wind_at_closest_kt": raw["vmax_kt_khi_gan_nhat"].astype(float),
            "category_at_closest": raw["cap_khi_gan_nhat"],
        }
    )
    return _frame(df, raw.geometry, "JTWC best track (public domain)")


def read_dams() -> gpd.GeoDataFrame:
    """Hydropower plants and reservoirs (capacity MW, reservoir million m³)."""
    raw = gpd.read_file(DAMS_FILE)
    df = pd.DataFrame(
        {
            "name": raw["Name"],
            "capacity_mw": _none_if_zero(raw["CSuat_MW"].astype(float)),
            "reservoir_mcm": _none_if_zero(raw["Dung_Tich"].astype(float)),
            "river_basin": raw["Luu_Vuc"],
            "owner": raw["Chu_DT"],
            "operating_since": raw["Van_hanh"],
            "in_city": raw["trong_thanh_pho_hue"].astype(bool),
        }
    )
    return _frame(df, raw.geometry, "CTU-SematX/LegoCity Hydroelectric (CC BY-SA 4.0)")


@cache
def synth_context(seed: int):
    """What the seeded generators place features in: wards, land (wards minus water), places."""
    from layers.synth import SynthContext

    wards = read_wards()
    water = read_water_areas()
    land = shapely.difference(shapely.union_all(wards.geometry.values), shapely.union_all(water.geometry.values))
    return SynthContext(wards=wards, land=land, seed=seed, places=read_places())
