"""The synthetic generators against the real Huế wards, without a database.

Each layer must fit its table exactly (columns, vocabularies, CHECK constraints), lie inside the
ward it names and on land, repeat itself for a seed and change with another seed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import models
from layers.sources import GEONAMES_FILE as PLACES
from layers.sources import WARDS_FILE as WARDS
from layers.sources import WATER_FILE as WATER
from layers.synth import GENERATORS, SynthContext, build_context, generate_construction_permits
from layers.synth.parcels import LAND_USE_BY_ZONE
from layers.synth.permits import REFERENCE_DATE

SEED = 20251

MODELS: dict[str, Any] = {
    "planning_zones": models.PlanningZone,
    "land_parcels": models.LandParcel,
    "construction_permits": models.ConstructionPermit,
    "health_facilities": models.HealthFacility,
    "schools": models.School,
}
POLYGON_LAYERS = ("planning_zones", "land_parcels")
TOLERANCE_DEG = 1e-6  # about 0.1 m: reprojection may move a vertex on a shared edge by less


def _context(seed: int = SEED, *, places: bool = True) -> SynthContext:
    """A context from the real files."""
    return build_context(WARDS, WATER, seed, places_path=PLACES if places else None)


@pytest.fixture(scope="module")
def ctx() -> SynthContext:
    """The context every test shares (built once: the density model takes a second)."""
    return _context()


@pytest.fixture(scope="module")
def layers(ctx: SynthContext) -> dict[str, gpd.GeoDataFrame]:
    """Every layer generated once for the module."""
    return {layer: generate(ctx) for layer, generate in GENERATORS.items()}


@pytest.fixture(scope="module")
def ward_shapes(ctx: SynthContext) -> dict[str, Any]:
    """Each ward's polygon grown by the tolerance, prepared for fast covers tests."""
    shapes = {}
    for code, geom in zip(ctx.wards["code"], ctx.wards.geometry, strict=True):
        grown = geom.buffer(TOLERANCE_DEG)
        shapely.prepare(grown)
        shapes[code] = grown
    return shapes


@pytest.fixture(scope="module")
def land_shape(ctx: SynthContext) -> Any:
    """The land mask grown by the tolerance, prepared."""
    grown = ctx.land.buffer(TOLERANCE_DEG)
    shapely.prepare(grown)
    return grown


def _table_columns(model: Any) -> list[str]:
    """What a generator must return: the table's columns less those the database fills."""
    return [c.name for c in model.__table__.columns if c.name not in ("id", "updated_at")]


# --- shape of every layer --------------------------------------------------------------


@pytest.mark.parametrize("layer", list(MODELS))
def test_columns_match_the_table(layers: dict[str, gpd.GeoDataFrame], layer: str) -> None:
    frame = layers[layer]
    assert list(frame.columns) == _table_columns(MODELS[layer])
    assert frame.geometry.name == "geom"
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert len(frame) > 0


@pytest.mark.parametrize("layer", list(MODELS))
def test_synthetic_flag_and_source(layers: dict[str, gpd.GeoDataFrame], layer: str) -> None:
    frame = layers[layer]
    assert frame["synthetic"].astype(bool).all()
    assert (frame["source"] == f"HueGIS synthetic generator (seed {SEED})").all()


@pytest.mark.parametrize("layer", list(MODELS))
def test_geometries_valid_and_typed(layers: dict[str, gpd.GeoDataFrame], layer: str) -> None:
    geoms = layers[layer].geometry
    assert geoms.is_valid.all()
    assert not geoms.is_empty.any()
    expected = "MultiPolygon" if layer in POLYGON_LAYERS else "Point"
    assert set(geoms.geom_type) == {expected}


@pytest.mark.parametrize("layer", list(MODELS))
def test_features_inside_their_ward_and_on_land(
    layers: dict[str, gpd.GeoDataFrame], ward_shapes: dict[str, Any], land_shape: Any, layer: str
) -> None:
    frame = layers[layer]
    assert set(frame["ward_code"]) <= set(ward_shapes)
    for code, group in frame.groupby("ward_code"):
        inside = shapely.covers(ward_shapes[code], group.geometry.values)
        assert inside.all(), f"{layer}: {(~inside).sum()} features outside ward {code}"
    on_land = shapely.covers(land_shape, frame.geometry.values)
    assert on_land.all(), f"{layer}: {(~on_land).sum()} features in the water"


@pytest.mark.parametrize("layer", POLYGON_LAYERS)
def test_polygons_do_not_overlap(layers: dict[str, gpd.GeoDataFrame], layer: str) -> None:
    utm = layers[layer].to_crs(32648)
    summed = utm.area.sum()
    union = shapely.union_all(utm.geometry.values).area
    assert summed == pytest.approx(union, rel=1e-6)


# --- determinism -----------------------------------------------------------------------


def test_same_seed_same_rows(layers: dict[str, gpd.GeoDataFrame]) -> None:
    again = _context()
    for layer, generate in GENERATORS.items():
        pd.testing.assert_frame_equal(
            pd.DataFrame(generate(again).to_wkb()), pd.DataFrame(layers[layer].to_wkb()), obj=layer
        )


def test_other_seed_other_rows(layers: dict[str, gpd.GeoDataFrame]) -> None:
    other = _context(SEED + 1)
    for layer, generate in GENERATORS.items():
        frame = generate(other)
        assert set(frame.geometry.to_wkb()) != set(layers[layer].geometry.to_wkb()), layer
        assert (frame["source"] == f"HueGIS synthetic generator (seed {SEED + 1})").all()


def test_works_without_geonames(ctx: SynthContext) -> None:
    bare = _context(places=False)
    frame = GENERATORS["health_facilities"](bare)
    assert (frame["facility_type"] == "health_station").sum() == len(bare.wards)


def test_works_on_a_subset_of_wards(ctx: SynthContext) -> None:
    codes = ["19789", "20050"]  # Thuận Hóa in the old city, A Lưới 5 in the mountains
    wards = ctx.wards[ctx.wards["code"].isin(codes)]
    land = shapely.intersection(ctx.land, shapely.union_all(wards.geometry.values))
    small = SynthContext(wards=wards, land=land, seed=SEED, places=ctx.places)
    for layer, generate in GENERATORS.items():
        frame = generate(small)
        assert set(frame["ward_code"]) <= set(codes), layer
        assert frame.geometry.is_valid.all(), layer
    stations = GENERATORS["health_facilities"](small).query("facility_type == 'health_station'")
    assert sorted(stations["ward_code"]) == codes


def test_context_rejects_projected_wards(ctx: SynthContext) -> None:
    with pytest.raises(ValueError, match="EPSG:4326"):
        SynthContext(wards=ctx.wards.to_crs(32648), land=ctx.land, seed=1)


# --- health facilities ------------------------------------------------------------------


def test_health_vocabulary_and_checks(layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["health_facilities"]
    assert set(frame["facility_type"]) <= set(models.FACILITY_TYPES)
    assert set(frame["ownership"]) <= {"public", "private"}
    assert (frame["beds"].dropna() >= 0).all()
    assert frame["name"].is_unique


def test_one_health_station_per_ward(ctx: SynthContext, layers: dict[str, gpd.GeoDataFrame]) -> None:
    stations = layers["health_facilities"].query("facility_type == 'health_station'")
    assert len(stations) == 40
    assert sorted(stations["ward_code"]) == sorted(ctx.wards["code"])
    assert (stations["ownership"] == "public").all()
    assert stations["name"].str.startswith("Trạm y tế ").all()


def test_hospitals_cluster_in_the_city(layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["health_facilities"]
    central = frame[frame["name"] == "Bệnh viện Trung ương Huế"]
    assert len(central) == 1 and central["facility_type"].iloc[0] == "central_hospital"
    assert central["beds"].iloc[0] >= 2000
    hospitals = frame[frame["facility_type"].str.endswith("hospital")]
    core = shapely.Point(107.583, 16.463)
    near = hospitals.to_crs(32648).distance(gpd.GeoSeries([core], crs=4326).to_crs(32648).iloc[0]) < 5000
    assert near.mean() > 0.6
    assert (frame["facility_type"] == "health_centre").sum() >= 8


def test_clinics_follow_population(ctx: SynthContext, layers: dict[str, gpd.GeoDataFrame]) -> None:
    clinics = layers["health_facilities"].query("facility_type == 'clinic'").groupby("ward_code").size()
    per_person = clinics.reindex(ctx.wards["code"]).fillna(0) / ctx.wards.set_index("code")["population"]
    urban = ctx.wards.set_index("code")["level"] == "ward"
    assert per_person[urban].mean() > per_person[~urban].mean()


# --- schools ---------------------------------------------------------------------------


def test_school_vocabulary_and_checks(layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["schools"]
    assert set(frame["school_level"]) <= set(models.SCHOOL_LEVELS)
    assert set(frame["ownership"]) <= {"public", "private"}
    assert (frame["students"].dropna() >= 0).all()
    assert frame["name"].is_unique
    assert (frame["ownership"] == "public").mean() > 0.8


def test_every_ward_has_basic_schools(ctx: SynthContext, layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["schools"]
    for level in ("kindergarten", "primary", "lower_secondary"):
        assert set(frame.loc[frame["school_level"] == level, "ward_code"]) == set(ctx.wards["code"]), level


def test_school_counts_and_pupils_follow_population(ctx: SynthContext, layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["schools"]
    population = int(ctx.wards["population"].sum())
    primary = frame[frame["school_level"] == "primary"]
    assert population / 12_000 < len(primary) < population / 7_000
    assert 0.06 < primary["students"].sum() / population < 0.12
    upper = frame[frame["school_level"] == "upper_secondary"]
    assert population / 35_000 < len(upper) < population / 20_000


# --- planning zones --------------------------------------------------------------------


def test_zone_vocabulary_and_checks(layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["planning_zones"]
    assert set(frame["zone_type"]) <= set(models.ZONE_TYPES)
    assert frame["plan_code"].is_unique
    assert frame["plan_code"].str.fullmatch(r"QH-\d{5}-\d{3}").all()
    assert all(code.split("-")[1] == ward for code, ward in zip(frame["plan_code"], frame["ward_code"], strict=True))
    assert (frame["max_far"].dropna() > 0).all()
    assert (frame["max_height_m"].dropna() > 0).all()
    assert frame["plan_code"].str.len().max() <= 32


def test_zones_do_not_overlap_within_a_ward(layers: dict[str, gpd.GeoDataFrame]) -> None:
    utm = layers["planning_zones"].to_crs(32648)
    for code, group in utm.groupby("ward_code"):
        assert group.area.sum() == pytest.approx(shapely.union_all(group.geometry.values).area, rel=1e-7), code


def test_heritage_citadel_is_low_rise(layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["planning_zones"]
    citadel = frame[frame["name"].str.contains("Kinh thành")]
    assert len(citadel) == 1 and citadel["zone_type"].iloc[0] == "heritage_conservation"
    assert citadel.geometry.iloc[0].contains(shapely.Point(107.577, 16.469))
    heritage = frame[frame["zone_type"] == "heritage_conservation"]
    assert (heritage["max_height_m"] <= 12).all()


def test_zone_types_fit_the_place(ctx: SynthContext, layers: dict[str, gpd.GeoDataFrame]) -> None:
    utm = layers["planning_zones"].to_crs(32648)
    utm["area"] = utm.area
    share = utm.groupby(["ward_code", "zone_type"])["area"].sum() / utm.groupby("ward_code")["area"].sum()
    # The old city is built up; the mountain communes are forest and farmland.
    assert share.loc["19789"].reindex(["residential", "mixed_use", "commercial"]).fillna(0).sum() > 0.6
    for code in ("20050", "20182", "20179"):
        assert share.loc[code].reindex(["forest", "agriculture"]).fillna(0).sum() > 0.6, code
    tourism = set(utm.loc[utm["zone_type"] == "tourism", "ward_code"])
    assert {"19900", "20137"} <= tourism  # Thuận An and Chân Mây - Lăng Cô


# --- land parcels ----------------------------------------------------------------------


def test_parcel_vocabulary_and_checks(layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["land_parcels"]
    assert 5_000 <= len(frame) <= 15_000
    assert set(frame["land_use"]) <= set(models.LAND_USES)
    assert set(frame["holder_type"]) <= {"household", "organisation", "state"}
    assert frame["parcel_no"].is_unique
    pattern = re.compile(r"(\d{5})-(\d+)-(\d+)")
    for no, ward, sheet in zip(frame["parcel_no"], frame["ward_code"], frame["map_sheet"], strict=True):
        m = pattern.fullmatch(no)
        assert m and m.group(1) == ward and int(m.group(2)) == sheet, no
    assert (frame["area_m2"] > 0).all()
    measured = frame.to_crs(32648).area
    assert np.allclose(measured, frame["area_m2"], rtol=1e-3, atol=0.2)


def test_parcel_sizes_are_plausible(layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["land_parcels"]
    homes = frame[frame["land_use"].isin(["ODT", "ONT"])]["area_m2"]
    assert homes.between(100, 2000).all()
    fields = frame[frame["land_use"].isin(["LUA", "HNK", "RSX"])]["area_m2"]
    assert fields.median() > homes.median()


def test_parcel_use_fits_its_zone(layers: dict[str, gpd.GeoDataFrame]) -> None:
    zones = layers["planning_zones"][["zone_type", "geom"]]
    parcels = layers["land_parcels"].copy()
    parcels["geom"] = parcels.geometry.representative_point()
    joined = gpd.sjoin(parcels, zones, predicate="within")
    assert len(joined) == len(parcels)

    def allowed(zone_type: str) -> set[str]:
        """Land uses a lot in this zone type may have."""
        uses = set(LAND_USE_BY_ZONE[zone_type]) - {"HOME"}
        if "HOME" in LAND_USE_BY_ZONE[zone_type]:
            uses |= {"ODT", "ONT", "TMD", "CLN"}  # homes above 2,000 m² become business or garden land
        if zone_type == "residential":
            uses |= set(LAND_USE_BY_ZONE["village_fringe"])  # gardens and fields around the villages
        return uses

    fits = [lu in allowed(z) for lu, z in zip(joined["land_use"], joined["zone_type"], strict=True)]
    assert all(fits)


# --- construction permits ---------------------------------------------------------------


def test_permit_vocabulary_and_checks(layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["construction_permits"]
    assert set(frame["permit_type"]) <= set(models.PERMIT_TYPES)
    assert set(frame["status"]) <= set(models.PERMIT_STATUSES)
    assert frame["permit_no"].is_unique
    assert frame["permit_no"].str.fullmatch(r"GPXD-\d{4}-\d{6}").all()
    assert all(int(no[5:9]) == d.year for no, d in zip(frame["permit_no"], frame["issued_on"], strict=True))
    floors = frame["floors"].dropna()
    assert floors.between(0, 60).all()
    assert (frame["building_use"].str.len() <= 32).all()
    with_expiry = frame[frame["expires_on"].notna()]
    assert (with_expiry["expires_on"] > with_expiry["issued_on"]).all()
    assert frame["issued_on"].min() >= date(2020, 1, 1)
    assert frame["issued_on"].max() < REFERENCE_DATE


def test_permit_status_agrees_with_dates(layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["construction_permits"]
    expired = frame[frame["status"] == "expired"]
    assert (expired["expires_on"] <= REFERENCE_DATE).all()
    recent = frame[frame["issued_on"] >= date(2026, 9, 1)]
    assert not recent["status"].isin(["completed", "expired"]).any()
    old = frame[frame["issued_on"] < date(2023, 1, 1)]
    assert not old["status"].isin(["issued", "under_construction"]).any()


def test_permits_follow_the_building_season(layers: dict[str, gpd.GeoDataFrame]) -> None:
    months = pd.to_datetime(layers["construction_permits"]["issued_on"]).dt.month.value_counts()
    assert months.reindex([10, 11]).mean() < 0.6 * months.reindex([3, 4, 5, 6]).mean()


def test_permits_mostly_in_the_city(ctx: SynthContext, layers: dict[str, gpd.GeoDataFrame]) -> None:
    frame = layers["construction_permits"]
    urban_codes = set(ctx.wards.loc[ctx.wards["level"] == "ward", "code"])
    assert frame["ward_code"].isin(urban_codes).mean() > 0.6
    per_km2 = frame.groupby("ward_code").size() / ctx.wards.set_index("code")["area_km2"]
    assert per_km2["19789"] > 20 * per_km2.reindex(["20050", "20182"]).fillna(0).max()


def test_permits_take_given_parcels(ctx: SynthContext, layers: dict[str, gpd.GeoDataFrame]) -> None:
    given = generate_construction_permits(ctx, parcels=layers["land_parcels"])
    default = layers["construction_permits"]
    # The parcels went to EPSG:4326 and back, so positions agree to the last bits only.
    pd.testing.assert_frame_equal(pd.DataFrame(given.drop(columns="geom")), pd.DataFrame(default.drop(columns="geom")))
    assert given.geometry.geom_equals_exact(default.geometry, tolerance=1e-9).all()
    on_lots = given["project_name"].str.contains("thửa đất số")
    assert on_lots.sum() > 100
