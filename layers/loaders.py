"""Loaders: write the shipped real data and the seeded generators into PostGIS.

Each layer has a ``Source``: a function producing a GeoDataFrame with the table's columns
(EPSG:4326) and the inputs whose checksum decides whether a reload is needed. Loading a layer
is one transaction (COPY into a staging table, then upsert on the layer's natural key or
replace), so a second load of unchanged inputs writes nothing and a failed load writes nothing.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from tqdm import tqdm

from geo.errors import DatabaseUnavailable
from geo.planning import load_rules
from geo.registry import REGISTRY
from geo.reports.catalogue import load_catalogue
from geo.settings import Settings
from layers.hazards import CODE_INPUTS, read_flood_scenarios, read_rasters, read_storm_exposure
from layers.sources import (
    CITY_FILE,
    DAMS_FILE,
    GEONAMES_FILE,
    RIVERS_FILE,
    ROADS_FILE,
    STORMS_FILE,
    WARDS_FILE,
    WATER_FILE,
    read_admin_units,
    read_dams,
    read_places,
    read_rivers,
    read_roads,
    read_storm_tracks,
    read_tourism_sites,
    read_universities,
    read_water_areas,
    synth_context,
)
from layers.storms import STORM_POINTS_FILE

# --- synthetic layers -------------------------------------------------------------------


def _synthetic(layer_id: str) -> Callable[[Settings], gpd.GeoDataFrame]:
    def read(settings: Settings) -> gpd.GeoDataFrame:
        from layers.synth import GENERATORS

        return GENERATORS[layer_id](synth_context(settings.seed))

    read.__doc__ = f"Seeded synthetic {layer_id}."
    return read


def read_schools(settings: Settings) -> gpd.GeoDataFrame:
    """Generated schools plus the real universities."""
    generated = _synthetic("schools")(settings)
    return pd.concat([generated, read_universities()[generated.columns]], ignore_index=True)


# --- the load itself ----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """How to produce one layer's rows, what they depend on, and their natural key."""

    read: Callable[[Settings], gpd.GeoDataFrame]
    inputs: tuple[Path, ...]
    key: str | None = None
    synthetic: bool = False


def _real(reader: Callable[[], gpd.GeoDataFrame]) -> Callable[[Settings], gpd.GeoDataFrame]:
    def read(settings: Settings) -> gpd.GeoDataFrame:
        return reader()

    read.__doc__ = reader.__doc__
    read.__wrapped__ = reader  # type: ignore[attr-defined]
    return read


SYNTH_DIR = Path(__file__).resolve().parent / "synth"
SYNTH_INPUTS = (WARDS_FILE, WATER_FILE, GEONAMES_FILE)

# Load order matters: admin_units first (other layers reference ward codes).
SOURCES: dict[str, Source] = {
    "admin_units": Source(_real(read_admin_units), (WARDS_FILE, CITY_FILE), key="code"),
    "water_areas": Source(_real(read_water_areas), (WATER_FILE,), key="code"),
    "rivers": Source(_real(read_rivers), (RIVERS_FILE,), key="gshhg_id"),
    "roads": Source(_real(read_roads), (ROADS_FILE,)),
    "places": Source(_real(read_places), (GEONAMES_FILE,), key="geonames_id"),
    "tourism_sites": Source(_real(read_tourism_sites), (GEONAMES_FILE,), key="geonames_id"),
    "storm_tracks": Source(_real(read_storm_tracks), (STORMS_FILE,), key="storm_id"),
    "dams": Source(_real(read_dams), (DAMS_FILE,), key="name"),
    "health_facilities": Source(_synthetic("health_facilities"), SYNTH_INPUTS, synthetic=True),
    "schools": Source(read_schools, SYNTH_INPUTS, synthetic=True),
    "planning_zones": Source(_synthetic("planning_zones"), SYNTH_INPUTS, key="plan_code", synthetic=True),
    "land_parcels": Source(_synthetic("land_parcels"), SYNTH_INPUTS, key="parcel_no", synthetic=True),
    "construction_permits": Source(_synthetic("construction_permits"), SYNTH_INPUTS, key="permit_no", synthetic=True),
    # Hazard layers: the code computing them is an input too, so a model change reloads them.
    "storm_exposure": Source(_real(read_storm_exposure), (STORM_POINTS_FILE, WARDS_FILE, *CODE_INPUTS)),
    "flood_scenarios": Source(
        _real(read_flood_scenarios),
        (CITY_FILE, WATER_FILE, RIVERS_FILE, GEONAMES_FILE, *CODE_INPUTS),
        key="return_period_years",
        synthetic=True,
    ),
    # Writes the COG files under <data_dir>/rasters as it catalogues them.
    "rasters": Source(
        read_rasters, (CITY_FILE, WATER_FILE, RIVERS_FILE, GEONAMES_FILE, STORM_POINTS_FILE, *CODE_INPUTS), key="name"
    ),
}


@dataclass(frozen=True)
class LoadResult:
    layer_id: str
    rows: int
    loaded: bool
    kept_edits: int = 0  # staff edits since the last load that kept the layer from being reloaded


def checksum(layer_id: str, settings: Settings) -> str:
    """Digest of a layer's inputs: data files, the code that reads them, and the seed."""
    source = SOURCES[layer_id]
    digest = hashlib.sha256(layer_id.encode())
    for path in source.inputs:
        digest.update(path.read_bytes())
    digest.update(inspect.getsource(inspect.unwrap(source.read)).encode())
    if source.synthetic:
        digest.update(str(settings.seed).encode())
        for path in sorted(SYNTH_DIR.glob("*.py")):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _rows(frame: gpd.GeoDataFrame, columns: list[str]) -> Iterable[tuple]:
    """Rows ready for COPY: Python scalars, None for missing, geometry as EWKB hex."""
    geoms = shapely.to_wkb(shapely.set_srid(frame.geometry.values, 4326), hex=True, include_srid=True)
    values = []
    for col in columns:
        series = frame[col].astype(object)
        values.append(series.where(series.notna(), None).tolist())
    values.append(list(geoms))
    return zip(*values, strict=True)


def write_layer(conn: psycopg.Connection, layer_id: str, frame: gpd.GeoDataFrame, key: str | None) -> int:
    """Replace a layer's rows with ``frame`` inside the caller's transaction; return the row count."""
    table = sql.Identifier(REGISTRY[layer_id].table_name)
    columns = [c for c in frame.columns if c != "geom"]
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in [*columns, "geom"])
    conn.execute(sql.SQL("CREATE TEMP TABLE stage (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(table))
    with conn.cursor().copy(sql.SQL("COPY stage ({}) FROM STDIN").format(cols)) as copy:
        for row in tqdm(
            _rows(frame, columns), total=len(frame), desc=f"  {layer_id}", unit="row", leave=False, mininterval=0.5
        ):
            copy.write_row(row)
    if key is None:
        conn.execute(sql.SQL("DELETE FROM {}").format(table))
        conn.execute(sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM stage").format(t=table, c=cols))
    else:
        k = sql.Identifier(key)
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in [*columns, "geom"] if c != key
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {t} ({c}) SELECT {c} FROM stage ON CONFLICT ({k}) DO UPDATE SET {u}, updated_at = now()"
            ).format(t=table, c=cols, k=k, u=updates)
        )
        conn.execute(sql.SQL("DELETE FROM {t} WHERE {k} NOT IN (SELECT {k} FROM stage)").format(t=table, k=k))
    return len(frame)


def load_layers(settings: Settings, *, only: list[str] | None = None, force: bool = False) -> list[LoadResult]:
    """Load every layer with a source (or ``only`` those), skipping unchanged inputs."""
    wanted = only or list(SOURCES)
    unknown = [layer_id for layer_id in wanted if layer_id not in SOURCES]
    if unknown:
        raise KeyError(f"no loader for {', '.join(unknown)}; loadable layers: {', '.join(SOURCES)}")
    results = []
    try:
        conn = psycopg.connect(settings.conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    with conn:
        load_catalogue(conn)  # report categories and departments: small reference data, upserted
        load_rules(conn)  # the planning-conflict rule table (rewritten only when the file changed)
        for layer_id in tqdm([i for i in SOURCES if i in wanted], desc="Loading Huế layers", unit="layer"):
            source = SOURCES[layer_id]
            digest = checksum(layer_id, settings)
            previous = conn.execute(
                "SELECT checksum, rows FROM layer_loads WHERE layer_id = %s", (layer_id,)
            ).fetchone()
            # A reload would overwrite what staff edited since (geo/editing.py): only with --force.
            edits = conn.execute(
                "SELECT count(*) FROM feature_history h JOIN layer_loads l USING (layer_id) "
                "WHERE h.layer_id = %s AND h.at > l.loaded_at",
                (layer_id,),
            ).fetchone()[0]  # type: ignore[index]
            if previous and (previous[0] == digest or edits) and not force:
                results.append(LoadResult(layer_id, previous[1], loaded=False, kept_edits=edits))
                continue
            frame = source.read(settings)
            with conn.transaction():
                rows = write_layer(conn, layer_id, frame, source.key)
                conn.execute(
                    "INSERT INTO layer_loads (layer_id, checksum, rows) VALUES (%s, %s, %s) "
                    "ON CONFLICT (layer_id) DO UPDATE SET checksum = EXCLUDED.checksum, rows = EXCLUDED.rows, "
                    "loaded_at = now()",
                    (layer_id, digest, rows),
                )
            results.append(LoadResult(layer_id, rows, loaded=True))
    return results
