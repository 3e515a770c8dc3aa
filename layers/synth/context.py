"""What every synthetic generator works from: the real wards, the land mask and a seed.

The generators never read files or the database themselves; the loader (or a test) builds a
:class:`SynthContext` once and passes it to each of them. All geometry work happens in metres in
EPSG:32648 (UTM 48N); the context keeps the projected wards, their land part and a population
density model per ward (``WardModel``) cached so that five generators share one set-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"
UTM48N = "EPSG:32648"
DEFAULT_SEED = 20251

WARD_COLUMNS = ("code", "name", "level", "population", "area_km2")
LEVEL_BY_LOAI = {"Phường": "ward", "Xã": "commune"}

# The old city core (Thuận Hóa / Phú Xuân, around the Trường Tiền bridge): density falls away from it.
CITY_CORE_LONLAT = (107.583, 16.463)

# GeoNames feature codes that mark where people live, with how much weight each gets as a
# settlement centre: district seats outweigh hamlets; ADM3 points are the pre-2025 commune centres.
SETTLEMENT_WEIGHTS = {
    "PPLA": 5.0,
    "PPLA2": 4.0,
    "PPLC": 5.0,
    "PPLX": 2.0,
    "ADM3": 1.5,
    "PPL": 1.0,
    "PPLL": 0.6,
}

_TO_UTM = Transformer.from_crs(WGS84, UTM48N, always_xy=True)
_TO_WGS84 = Transformer.from_crs(UTM48N, WGS84, always_xy=True)

XY = NDArray[np.float64]


def _apply(transformer: Transformer) -> Callable[[XY], XY]:
    """A coordinate function for ``shapely.transform`` that runs one pyproj transformer."""

    def run(coords: XY) -> XY:
        """Transform an (n, 2) coordinate array."""
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return run


def to_utm(geoms: Any) -> Any:
    """Project shapely geometries (one or an array) from EPSG:4326 to EPSG:32648."""
    return shapely.transform(geoms, _apply(_TO_UTM))


def to_wgs84(geoms: Any) -> Any:
    """Project shapely geometries (one or an array) from EPSG:32648 to EPSG:4326."""
    return shapely.transform(geoms, _apply(_TO_WGS84))


def lonlat_to_utm(lon: float, lat: float) -> tuple[float, float]:
    """Project one lon/lat pair to UTM 48N metres."""
    x, y = _TO_UTM.transform(lon, lat)
    return float(x), float(y)


def short_name(name: str) -> str:
    """A unit name without its level prefix: 'Phường Phú Xuân' -> 'Phú Xuân'."""
    # GeoNames spells some old wards 'Phường Phường Đúc', so strip prefixes until none is left.
    prefixes = ("Phường ", "Xã ", "Thị Trấn ", "Thị trấn ", "Thị Xã ", "Huyện ")
    changed = True
    while changed:
        changed = False
        for prefix in prefixes:
            if name.startswith(prefix) and len(name) > len(prefix):
                name = name[len(prefix) :]
                changed = True
    return name.strip()


@dataclass(frozen=True)
class WardModel:
    """One ward or commune in metres, with the kernel mixture that stands in for its population."""

    code: str
    name: str
    short: str
    level: str
    population: int
    area_km2: float
    region: BaseGeometry  # ward ∩ land, EPSG:32648
    centres: XY  # (k, 2) settlement centres, EPSG:32648
    weights: XY  # (k,) normalised
    sigma_m: float  # spread of each kernel
    background: float  # share of points drawn uniformly over the ward
    urbanity: float  # 0 (mountain commune) .. 1 (old city core), from log density
    localities: tuple[str, ...]  # pre-2025 commune/ward names inside, for naming things
    locality_xy: XY  # (len(localities), 2) where each of them was, EPSG:32648

    @property
    def density(self) -> float:
        """Residents per km² of the official area."""
        return self.population / max(self.area_km2, 0.01)

    @property
    def seat(self) -> XY:
        """The strongest settlement centre: where the People's Committee and its services sit."""
        return self.centres[int(np.argmax(self.weights))]

    def density_at(self, xy: XY) -> XY:
        """Relative settlement intensity (kernel mixture, no background) at (n, 2) points."""
        d2 = ((xy[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2)
        return np.asarray((np.exp(-d2 / (2 * self.sigma_m**2)) * self.weights[None, :]).sum(axis=1))

    def locality_at(self, xy: XY) -> str:
        """The pre-2025 unit name nearest to a UTM point, else the ward's own short name."""
        if not self.localities:
            return self.short
        return self.localities[int(np.argmin(((self.locality_xy - xy) ** 2).sum(axis=1)))]

    def distance_to_settlement(self, xy: XY) -> XY:
        """Distance in metres from (n, 2) points to the nearest settlement centre."""
        d2 = ((xy[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2)
        return np.asarray(np.sqrt(d2.min(axis=1)))


@dataclass
class SynthContext:
    """Inputs shared by all generators: wards (EPSG:4326), land (EPSG:4326) and the seed.

    ``wards`` has columns code, name, level ('ward' | 'commune'), population, area_km2 and a
    geometry column. ``land`` is the city outline minus sea and lagoons. ``places`` is optional:
    GeoNames points with a ``feature_code`` column (the ``places`` table or the GeoNames file);
    its villages become the settlement centres, otherwise each ward's representative point does.
    """

    wards: gpd.GeoDataFrame
    land: BaseGeometry
    seed: int = DEFAULT_SEED
    places: gpd.GeoDataFrame | None = None
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the inputs early, naming what is wrong."""
        missing = [c for c in WARD_COLUMNS if c not in self.wards.columns]
        if missing:
            raise ValueError(f"wards lacks columns {missing}")
        if self.wards.crs is not None and not self.wards.crs.equals(WGS84):
            raise ValueError(f"wards must be in EPSG:4326, got {self.wards.crs.to_string()}")
        bad_levels = sorted(set(self.wards["level"]) - {"ward", "commune"})
        if bad_levels:
            raise ValueError(f"ward level must be 'ward' or 'commune', got {bad_levels}")
        if self.wards["code"].duplicated().any():
            raise ValueError("ward codes are not unique")
        if self.land is None or self.land.is_empty:
            raise ValueError("land is empty")

    @property
    def source(self) -> str:
        """The ``source`` value every synthetic row carries."""
        return f"HueGIS synthetic generator (seed {self.seed})"

    def rng(self, offset: int) -> np.random.Generator:
        """A fresh generator for one layer, so that layers do not shift each other's draws."""
        return np.random.default_rng(self.seed + offset)

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """Build a shared intermediate once per context (zones are used by parcels and permits)."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def models(self) -> list[WardModel]:
        """Every ward's density model, ordered by ward code."""
        return list(self.cached("ward_models", self._build_models))

    def model(self, code: str) -> WardModel:
        """The density model of one ward, by code."""
        by_code: dict[str, WardModel] = self.cached("ward_models_by_code", lambda: {m.code: m for m in self.models()})
        if code not in by_code:
            raise ValueError(f"unknown ward code {code!r}")
        return by_code[code]

    def ward_of(self, xy: tuple[float, float]) -> tuple[WardModel, float]:
        """The ward whose land holds a UTM point (distance 0), else the nearest one and its distance in m."""
        pt = shapely.Point(xy)
        models = self.models()
        dist = np.array([m.region.distance(pt) for m in models])
        i = int(np.argmin(dist))
        return models[i], float(dist[i])

    def _build_models(self) -> list[WardModel]:
        """Project every ward, cut it to land and fit its settlement kernels."""
        wards = self.wards.sort_values("code").reset_index(drop=True)
        land_utm = to_utm(shapely.make_valid(self.land))
        regions = shapely.intersection(to_utm(np.asarray(wards.geometry.values)), land_utm)
        regions = shapely.make_valid(regions)
        places_xy, places_w, places_names = self._settlements()
        core = np.array(lonlat_to_utm(*CITY_CORE_LONLAT))
        models = []
        for i, row in wards.iterrows():
            region = _polygonal(regions[i])
            if region.is_empty:
                raise ValueError(f"ward {row['code']} has no land")
            pop = row["population"]
            population = int(pop) if pd.notna(pop) and pop > 0 else int(100 * float(row["area_km2"]))
            area_km2 = float(row["area_km2"]) if pd.notna(row["area_km2"]) else region.area / 1e6
            inside = shapely.contains_xy(region, places_xy[:, 0], places_xy[:, 1]) if len(places_xy) else []
            centres = places_xy[inside] if len(places_xy) else np.empty((0, 2))
            weights = places_w[inside] if len(places_xy) else np.empty(0)
            # Pre-2025 unit names and where they were: the names planners and schools still use.
            named = sorted(
                {n: xy for n, xy, keep in zip(places_names, places_xy, inside, strict=True) if keep and n}.items()
            )
            # The representative point always counts, so a ward without GeoNames villages still has a core.
            rep = shapely.get_coordinates(region.representative_point())[0]
            centres = np.vstack([centres, rep])
            weights = np.append(weights, 1.5)
            urbanity = float(np.clip((np.log10(max(population / area_km2, 1.0)) - 1.9) / (4.1 - 1.9), 0, 1))
            # Pull weight towards the old city so peri-urban wards fill from their city-facing side.
            d_core = np.sqrt(((centres - core) ** 2).sum(axis=1))
            weights = weights * (1 + 3 * np.exp(-d_core / 4000.0))
            sigma = float(np.clip(0.45 * np.sqrt(region.area / len(centres)), 350.0, 2500.0))
            models.append(
                WardModel(
                    code=str(row["code"]),
                    name=str(row["name"]),
                    short=short_name(str(row["name"])),
                    level=str(row["level"]),
                    population=population,
                    area_km2=area_km2,
                    region=region,
                    centres=centres,
                    weights=weights / weights.sum(),
                    sigma_m=sigma,
                    background=0.05 + 0.3 * urbanity,
                    urbanity=urbanity,
                    localities=tuple(n for n, _ in named),
                    locality_xy=np.array([xy for _, xy in named]).reshape(-1, 2),
                )
            )
        return models

    def _settlements(self) -> tuple[XY, XY, list[str]]:
        """GeoNames settlement points in UTM with their weights and (pre-2025 unit) names."""
        if self.places is None or len(self.places) == 0:
            return np.empty((0, 2)), np.empty(0), []
        places = self.places if self.places.crs is None else self.places.to_crs(WGS84)
        places = places[places["feature_code"].isin(list(SETTLEMENT_WEIGHTS))]
        # Sort so that the result does not depend on the order the caller's rows came in.
        ids = [c for c in ("geonameid", "geonames_id") if c in places.columns]
        places = places.sort_values(["feature_code", *ids], kind="stable")
        xy = shapely.get_coordinates(to_utm(np.asarray(places.geometry.values)))
        weights = places["feature_code"].map(SETTLEMENT_WEIGHTS).to_numpy(dtype=float)
        name_col = "ten_vi" if "ten_vi" in places.columns else "name_vi" if "name_vi" in places.columns else "name"
        # Only pre-2025 commune names (ADM3) are good names for schools; village names are too small.
        names = [
            short_name(str(n)) if code == "ADM3" and isinstance(n, str) else ""
            for n, code in zip(places[name_col], places["feature_code"], strict=True)
        ]
        return xy, weights, names


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygon parts of a geometry (intersections may add lines and points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def read_wards(path: str | Path) -> gpd.GeoDataFrame:
    """Read the 2025 ward/commune file and rename its columns to the context's vocabulary."""
    raw = gpd.read_file(path)
    unknown = sorted(set(raw["loai"]) - set(LEVEL_BY_LOAI))
    if unknown:
        raise ValueError(f"unknown ward type (loai) {unknown}")
    wards = gpd.GeoDataFrame(
        {
            "code": raw["ma_xa_bnv"].astype(str).str.zfill(5),
            "name": raw["ten"].astype(str),
            "level": raw["loai"].map(LEVEL_BY_LOAI),
            "population": raw["dan_so_sapnhap"].astype("Int64"),
            "area_km2": raw["dien_tich_km2_sapnhap"].astype(float),
            "geom": gpd.GeoSeries(shapely.make_valid(np.asarray(raw.geometry.values)), crs=raw.crs),
        },
        geometry="geom",
        crs=raw.crs,
    )
    return wards.to_crs(WGS84)


def build_context(
    wards_path: str | Path,
    water_path: str | Path,
    seed: int = DEFAULT_SEED,
    *,
    places_path: str | Path | None = None,
) -> SynthContext:
    """Build a context from the real files: wards, sea/lagoon polygons and (optionally) GeoNames."""
    wards = read_wards(wards_path)
    water = gpd.read_file(water_path).to_crs(WGS84)
    city = shapely.union_all(np.asarray(wards.geometry.values))
    land = _polygonal(shapely.make_valid(city.difference(shapely.union_all(np.asarray(water.geometry.values)))))
    places = None
    if places_path is not None:
        places = gpd.read_file(places_path).to_crs(WGS84)
        if "trong_thanh_pho_hue" in places.columns:
            places = places[places["trong_thanh_pho_hue"].fillna(False).astype(bool)]
    return SynthContext(wards=wards, land=land, seed=seed, places=places)
