"""Vector tiles: decoded MVTs against PostGIS, empty and invalid tiles, ETag/304, the cache and its
invalidation by the layer_versions triggers, TileJSON, the basemap style and OGC API - Tiles."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from psycopg import sql

from geo.db import load_sql
from geo.registry import LAYERS, REGISTRY
from tiles.cache import DEFAULT_VERSION_TTL_S, Cached, tile_cache
from tiles.grid import MAX_ZOOM
from tiles.vector import (
    BASEMAP,
    BUFFER,
    CAP_FROM_ZOOM,
    EXTENT,
    LOW_ZOOM_AGGREGATES,
    LOW_ZOOM_MAX_FEATURES,
    tile_params,
)

TMS = morecantile.tms.get("WebMercatorQuad")
CENTRE = (107.5775, 16.4680)  # the Imperial City (Đại Nội)
FRESH = {"Cache-Control": "no-cache"}  # re-read layer versions: a previous test may have just written
MVT = "application/vnd.mapbox-vector-tile"


def _tracked_by_migration() -> list[str]:
    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0004_tiles.py"
    spec = importlib.util.spec_from_file_location("migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.LAYER_TABLES)


# Migration 0004 tracks these; layers added later are served uncached until they are tracked.
TRACKED = _tracked_by_migration()


def centre_tile(z: int) -> tuple[int, int, int]:
    tile = TMS.tile(*CENTRE, z)
    return z, tile.x, tile.y


def decode(content: bytes) -> dict:
    return mapbox_vector_tile.decode(content)


def sql_count(db: psycopg.Connection, table: str, z: int, x: int, y: int, where: str = "TRUE") -> int:
    """Features whose geometry meets the tile's envelope with its buffer, straight from PostGIS.

    In EPSG:3857, where tiles are clipped, after coordinates snap to whole tile units: a point up
    to half a unit beyond the 64-unit buffer is in the tile.
    """
    params = {**tile_params(z, x, y), "margin": (BUFFER + 0.5) / EXTENT}
    query = sql.SQL(
        "SELECT count(*) FROM {} AS src WHERE ST_Intersects(ST_Transform(src.geom, 3857), "
        "ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s)) AND " + where
    ).format(sql.Identifier(table))
    row = db.execute(query, params).fetchone()
    assert row is not None
    return min(row[0], int(params["max_features"]))


def get_tile(client: httpx.Client, path: str, **headers: str) -> httpx.Response:
    return client.get(path, headers={**FRESH, **headers})


# --- decoded tiles against PostGIS ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer_id", "z"),
    [
        (spec.id, z)
        for spec in LAYERS
        if spec.geometry_type == "Point"
        for z in (11, 12, 13, 16)
        if z >= CAP_FROM_ZOOM or spec.id not in LOW_ZOOM_AGGREGATES  # counts below: tests/test_report_tiles.py
    ],
)
def test_point_tiles_hold_every_feature_of_the_envelope(
    client: httpx.Client, db: psycopg.Connection, layer_id: str, z: int
) -> None:
    z, x, y = centre_tile(z)
    expected = sql_count(db, layer_id, z, x, y)
    response = get_tile(client, f"/tiles/{layer_id}/{z}/{x}/{y}.mvt")
    if expected == 0:
        assert response.status_code == 204 and response.content == b""
        return
    assert response.status_code == 200
    assert response.headers["content-type"] == MVT
    layers = decode(response.content)
    assert set(layers) == {layer_id}, "one MVT layer, named after the registry layer"
    features = layers[layer_id]["features"]
    assert len(features) == expected
    spec = REGISTRY[layer_id]
    required = {f for f in spec.mvt_fields if not spec.table.c[f].nullable}  # MVT omits only NULLs
    for feature in features:
        assert required <= set(feature["properties"]) <= set(spec.mvt_fields), "exactly the registry's tile fields"
        assert isinstance(feature["id"], int)


@pytest.mark.parametrize(
    "layer_id", [spec.id for spec in LAYERS if spec.geometry_type != "Point" and spec.id in TRACKED]
)
def test_line_and_polygon_tiles_match_postgis_at_high_zoom(
    client: httpx.Client, db: psycopg.Connection, layer_id: str
) -> None:
    z, x, y = centre_tile(15)
    expected = sql_count(db, layer_id, z, x, y)
    response = get_tile(client, f"/tiles/{layer_id}/{z}/{x}/{y}.mvt")
    if expected == 0:
        assert response.status_code == 204
        return
    layers = decode(response.content)
    assert set(layers) == {layer_id}
    # A polygon touching only the buffer by less than a tile unit collapses when clipped.
    assert expected - 2 <= len(layers[layer_id]["features"]) <= expected
    for feature in layers[layer_id]["features"]:
        assert set(feature["properties"]) <= set(REGISTRY[layer_id].mvt_fields)


def test_low_zoom_tiles_are_capped_keeping_the_largest_features(client: httpx.Client, db: psycopg.Connection) -> None:
    z, x, y = centre_tile(CAP_FROM_ZOOM - 2)
    total = db.execute(
        "SELECT count(*) FROM land_parcels WHERE geom && ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)", (z, x, y)
    ).fetchone()
    assert total is not None and total[0] > LOW_ZOOM_MAX_FEATURES, "the test tile must overflow the cap"
    features = decode(get_tile(client, f"/tiles/land_parcels/{z}/{x}/{y}.mvt").content)["land_parcels"]["features"]
    largest = {
        row[0]
        for row in db.execute(
            "SELECT id FROM land_parcels WHERE geom && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => %s), 4326) "
            "ORDER BY ST_Area(geom) DESC, id DESC LIMIT %s",
            (z, x, y, tile_params(z, x, y)["margin"], LOW_ZOOM_MAX_FEATURES),
        ).fetchall()
    }
    ids = {f["id"] for f in features}
    assert ids <= largest
    assert len(ids) >= 0.95 * LOW_ZOOM_MAX_FEATURES  # a few tiny parcels collapse to nothing at z10


def test_a_capped_point_tile_keeps_the_newest(client: httpx.Client, db: psycopg.Connection) -> None:
    """Points have no size to rank: a capped tile keeps the highest ids, the latest (a dense area's new
    reports would otherwise vanish from its tiles once it holds more than the cap)."""
    for z in range(CAP_FROM_ZOOM - 1, 3, -1):
        x, y = centre_tile(z)[1:]
        margin = tile_params(z, x, y)["margin"]
        newest = [row[0] for row in db.execute(
            "SELECT id FROM construction_permits WHERE geom && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => %s), "
            "4326) ORDER BY id DESC LIMIT %s", (z, x, y, margin, LOW_ZOOM_MAX_FEATURES + 1)).fetchall()]  # fmt: skip
        if len(newest) > LOW_ZOOM_MAX_FEATURES:
            break
    else:
        pytest.fail("no tile over the centre holds more permits than the cap")
    tile = decode(get_tile(client, f"/tiles/construction_permits/{z}/{x}/{y}.mvt").content)
    ids = {f["id"] for f in tile["construction_permits"]["features"]}
    assert ids == set(newest[:LOW_ZOOM_MAX_FEATURES])


def test_low_zoom_polygons_are_simplified(client: httpx.Client) -> None:
    z, x, y = centre_tile(9)
    simplified = decode(get_tile(client, f"/tiles/admin_units/{z}/{x}/{y}.mvt").content)["admin_units"]["features"]
    vertices = sum(len(ring) for f in simplified for part in _polygons(f["geometry"]) for ring in part)
    assert vertices < 20_000, "153,833 stored vertices; a z9 tile needs a small fraction"


def _polygons(geometry: dict) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def test_basemap_tile_holds_its_layers(client: httpx.Client, db: psycopg.Connection) -> None:
    z, x, y = centre_tile(12)
    response = get_tile(client, f"/tiles/basemap/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    layers = decode(response.content)
    assert {"admin_units", "roads", "places", "admin_labels"} <= set(layers) <= {layer.id for layer in BASEMAP.layers}
    for layer in BASEMAP.layers:
        for feature in layers.get(layer.id, {"features": []})["features"]:
            assert set(feature["properties"]) <= set(layer.fields)
    assert len(layers["places"]["features"]) == sql_count(db, "places", z, x, y)
    labels = db.execute(
        "SELECT count(*) FROM admin_units WHERE level <> 'city' AND ST_Intersects("
        "ST_Transform(ST_PointOnSurface(geom), 3857), ST_TileEnvelope(%s, %s, %s, margin => %s))",
        (z, x, y, (BUFFER + 0.5) / EXTENT),
    ).fetchone()
    assert labels is not None and len(layers["admin_labels"]["features"]) == labels[0] > 0
    # The OGC API - Tiles path serves the same bytes (row = y, column = x).
    ogc = get_tile(client, f"/tiles/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert ogc.status_code == 200 and ogc.content == response.content


def test_ogc_tile_path_serves_the_layer_tile(client: httpx.Client) -> None:
    z, x, y = centre_tile(14)
    xyz = get_tile(client, f"/tiles/schools/{z}/{x}/{y}.mvt")
    ogc = get_tile(client, f"/tiles/collections/schools/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert ogc.status_code == xyz.status_code == 200
    assert ogc.content == xyz.content and ogc.headers["etag"] == xyz.headers["etag"]


# --- empty and invalid tiles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/schools/10/0/0.mvt",  # the Arctic Ocean
        "/tiles/basemap/10/0/0.mvt",
        "/tiles/collections/schools/tiles/WebMercatorQuad/10/0/0",
        "/tiles/tiles/WebMercatorQuad/10/0/0",
    ],
)
def test_empty_tiles_are_204(client: httpx.Client, path: str) -> None:
    response = get_tile(client, path)
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["etag"] and response.headers["cache-control"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/tiles/schools/3/8/0.mvt", 400),  # x beyond 2^z - 1
        ("/tiles/schools/3/0/8.mvt", 400),
        ("/tiles/schools/25/0/0.mvt", 400),  # not a WebMercatorQuad tile matrix
        (f"/tiles/schools/{MAX_ZOOM + 1}/0/0.mvt", 404),  # a valid tile beyond the served zooms
        ("/tiles/schools/-1/0/0.mvt", 400),  # no such tile
        ("/tiles/schools/a/0/0.mvt", 400),  # not an integer: said so, not "Not Found"
        ("/tiles/schools/5/1.5/2.mvt", 400),
        ("/tiles/schools/5/0x1/2.mvt", 400),
        ("/tiles/no_such_layer/3/0/0.mvt", 404),
        ("/tiles/collections/schools/tiles/WebMercatorQuad/3/0/8", 400),
        ("/tiles/collections/schools/tiles/WebMercatorQuad/x/0/0", 400),
        ("/tiles/collections/schools/tiles/WorldCRS84Quad/3/0/0", 404),
        ("/tiles/collections/no_such_layer/tiles/WebMercatorQuad/3/0/0", 404),
        ("/tiles/collections/basemap/tiles", 404),
    ],
)
def test_invalid_tiles_are_rejected(client: httpx.Client, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    if status == 400:
        assert any(word in response.json()["detail"] for word in ("tile", "zoom")), response.text
    assert "detail" in response.json()


# --- HTTP caching and the cache ------------------------------------------------------------------


def test_etag_and_304(client: httpx.Client) -> None:
    z, x, y = centre_tile(13)
    path = f"/tiles/health_facilities/{z}/{x}/{y}.mvt"
    first = get_tile(client, path)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=300"
    etag = first.headers["etag"]
    assert etag.startswith('"health_facilities-')
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200
    operations = get_tile(client, f"/tiles/citizen_reports/{z}/{x}/{y}.mvt")
    assert operations.headers["cache-control"] == "public, no-cache", "reports change by the minute"


def test_gzipped_and_plain_tiles_have_their_own_etags(client: httpx.Client) -> None:
    """Tiles are kept gzipped; each encoding has its own ETag, and both say Vary, so caches never mix them."""
    z, x, y = centre_tile(14)
    path = f"/tiles/schools/{z}/{x}/{y}.mvt"
    gzipped = get_tile(client, path, **{"Accept-Encoding": "gzip"})
    plain = get_tile(client, path, **{"Accept-Encoding": "identity"})
    assert gzipped.status_code == plain.status_code == 200
    assert gzipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert gzipped.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert gzipped.content == plain.content and decode(plain.content)["schools"]["features"]  # httpx inflated it
    assert int(gzipped.headers["content-length"]) < len(plain.content)
    assert gzipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    for encoding, response in (("gzip", gzipped), ("identity", plain)):
        again = client.get(path, headers={"Accept-Encoding": encoding, "If-None-Match": response.headers["etag"]})
        assert again.status_code == 304 and again.headers["etag"] == response.headers["etag"]
    # The other encoding's tag does not validate: that client must get bytes it can read.
    crossed = client.get(path, headers={"Accept-Encoding": "identity", "If-None-Match": gzipped.headers["etag"]})
    assert crossed.status_code == 200 and crossed.content == plain.content
    # Static files likewise.
    vendor = "/static/vendor/maplibre-gl/maplibre-gl.mjs"
    tags = {e: client.get(vendor, headers={"Accept-Encoding": e}).headers["etag"] for e in ("gzip", "identity")}
    assert tags["gzip"] != tags["identity"]
    assert client.get(vendor, headers={"Accept-Encoding": "identity", "If-None-Match": tags["gzip"]}).status_code == 200


def test_second_request_is_a_cache_hit(client: httpx.Client) -> None:
    z, x, y = centre_tile(12)
    path = f"/tiles/tourism_sites/{z}/{x}/{y}.mvt"
    get_tile(client, path)
    second = client.get(path)
    assert second.headers["x-tile-cache"] == "hit"
    assert second.content == get_tile(client, path).content


def test_a_change_to_a_layer_invalidates_its_tiles(client: httpx.Client, db: psycopg.Connection) -> None:
    z, x, y = centre_tile(16)
    school = db.execute(
        "SELECT id, name FROM schools WHERE ST_Intersects(geom, ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)) "
        "ORDER BY id LIMIT 1",
        (z, x, y),
    ).fetchone()
    assert school is not None, "the test tile must hold a school"
    school_id, name = school
    path = f"/tiles/schools/{z}/{x}/{y}.mvt"
    before = get_tile(client, path)
    assert client.get(path).headers["x-tile-cache"] == "hit"
    version = db.execute("SELECT version FROM layer_versions WHERE layer_id = 'schools'").fetchone()
    try:
        db.execute("UPDATE schools SET name = 'Trường kiểm thử' WHERE id = %s", (school_id,))
        bumped = db.execute("SELECT version FROM layer_versions WHERE layer_id = 'schools'").fetchone()
        assert version is not None and bumped == (version[0] + 1,), "one statement, one bump"
        after = get_tile(client, path, **{"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200, "the old ETag no longer matches"
        assert after.headers["x-tile-cache"] == "miss" and after.headers["etag"] != before.headers["etag"]
        names = {f["id"]: f["properties"]["name"] for f in decode(after.content)["schools"]["features"]}
        assert names[school_id] == "Trường kiểm thử"
        # Without a hard reload the server notices within the version TTL.
        db.execute("UPDATE schools SET name = %s WHERE id = %s", (name, school_id))
        time.sleep(DEFAULT_VERSION_TTL_S + 0.3)
        restored = client.get(path)
        assert restored.headers["x-tile-cache"] == "miss"
        names = {f["id"]: f["properties"]["name"] for f in decode(restored.content)["schools"]["features"]}
        assert names[school_id] == name
    finally:
        db.execute("UPDATE schools SET name = %s WHERE id = %s", (name, school_id))


def test_basemap_tiles_follow_every_source_layer(client: httpx.Client, db: psycopg.Connection) -> None:
    z, x, y = centre_tile(14)
    path = f"/tiles/basemap/{z}/{x}/{y}.mvt"
    before = get_tile(client, path).headers["etag"]
    db.execute("UPDATE rivers SET name = name WHERE id = (SELECT min(id) FROM rivers)")
    assert get_tile(client, path).headers["etag"] != before


def test_untracked_layers_are_served_uncached(client: httpx.Client, db: psycopg.Connection) -> None:
    z, x, y = centre_tile(12)
    path = f"/tiles/dams/{z}/{x}/{y}.mvt"
    db.execute("DELETE FROM layer_versions WHERE layer_id = 'dams'")
    try:
        response = get_tile(client, path)
        assert response.headers["x-tile-cache"] == "bypass"
        assert client.get(path, headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    finally:
        db.execute("UPDATE dams SET name = name WHERE id = (SELECT min(id) FROM dams)")  # the trigger re-creates it
    assert get_tile(client, path).headers["x-tile-cache"] in ("miss", "hit")


@pytest.mark.parametrize("layer_id", TRACKED)
def test_every_layer_of_migration_0004_has_a_statement_trigger(db: psycopg.Connection, layer_id: str) -> None:
    row = db.execute(
        "SELECT tgtype & 1 = 0 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = 'layer_version_bump'",
        (layer_id,),
    ).fetchone()
    assert row == (True,), "FOR EACH STATEMENT (bit 0 of tgtype unset)"


def test_truncate_bumps_the_version(db: psycopg.Connection) -> None:
    with db.transaction(force_rollback=True):
        version = db.execute("SELECT version FROM layer_versions WHERE layer_id = 'dams'").fetchone()
        db.execute("TRUNCATE dams")
        assert db.execute("SELECT version FROM layer_versions WHERE layer_id = 'dams'").fetchone() == (
            version[0] + 1 if version else 1,
        )


def test_tile_statements_run_without_jit_or_parallel_workers(db: psycopg.Connection) -> None:
    db.execute("SET jit = on; SET max_parallel_workers_per_gather = 2")  # as an external database may be
    with db.transaction():
        db.execute(load_sql("tiles/session"))
        assert db.execute("SHOW jit").fetchone() == ("off",)
        assert db.execute("SHOW max_parallel_workers_per_gather").fetchone() == ("0",)
    assert db.execute("SHOW jit").fetchone() == ("on",), "local to the tile's transaction"


def test_lru_evicts_the_least_recently_used_by_size() -> None:
    cache = tile_cache(max_bytes=10)
    cache[("a",)] = Cached(b"1234")
    cache[("b",)] = Cached(b"1234")
    assert cache.get(("a",)) == Cached(b"1234")  # a is now the most recent
    cache[("c",)] = Cached(b"1234")
    assert cache.get(("b",)) is None and cache.get(("a",)) and cache.get(("c",))
    assert cache.currsize == 8 and len(cache) == 2
    cache[("a",)] = Cached(b"12", b"1234")  # the plain bytes added: counted too
    assert cache.currsize == 10
    with pytest.raises(ValueError):  # TileStore keeps no tile bigger than the whole cache
        cache[("huge",)] = Cached(b"x" * 11)
    assert cache.get(("huge",)) is None, "bigger than the whole cache: not kept"


# --- metadata ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tileset_id", ["basemap", "schools", "land_parcels", "citizen_reports"])
def test_tilejson(client: httpx.Client, server: str, tileset_id: str) -> None:
    body = client.get(f"/tiles/{tileset_id}/tilejson.json").json()
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"] == [f"{server}/tiles/{tileset_id}/{{z}}/{{x}}/{{y}}.mvt"]
    assert body["minzoom"] == 0 and body["maxzoom"] == MAX_ZOOM
    if tileset_id == "basemap":
        assert [v["id"] for v in body["vector_layers"]] == [layer.id for layer in BASEMAP.layers]
    else:
        (layer,) = body["vector_layers"]
        aggregate = LOW_ZOOM_AGGREGATES[tileset_id].fields if tileset_id in LOW_ZOOM_AGGREGATES else ()
        assert layer["id"] == tileset_id
        assert list(layer["fields"]) == [*REGISTRY[tileset_id].mvt_fields, *aggregate]
    assert client.get("/tiles/nope/tilejson.json").status_code == 404


def test_basemap_style_draws_basemap_layers_only(client: httpx.Client, server: str) -> None:
    style = client.get("/tiles/basemap/style.json").json()
    assert style["version"] == 8 and "glyphs" not in style, "labels are drawn from local fonts"
    assert style["sources"]["basemap"]["tiles"] == [f"{server}/tiles/basemap/{{z}}/{{x}}/{{y}}.mvt"]
    source_layers = {layer["source-layer"] for layer in style["layers"] if "source-layer" in layer}
    assert source_layers <= {layer.id for layer in BASEMAP.layers}
    english = client.get("/tiles/basemap/style.json", params={"lang": "en"}).json()
    assert english["name"] == "HueGIS basemap"
    assert client.get("/tiles/basemap/style.json", params={"lang": "fr"}).status_code == 422


def test_ogc_api_tiles_discovery(client: httpx.Client, server: str) -> None:
    landing = client.get("/tiles").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"] == f"{server}/tiles/tileMatrixSets"
    conformance = client.get("/tiles/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core" in conformance
    tms = client.get("/tiles/tileMatrixSets/WebMercatorQuad").json()
    assert tms["id"] == "WebMercatorQuad" and len(tms["tileMatrices"]) == 25
    collections = client.get("/tiles/collections").json()["collections"]
    assert {c["id"] for c in collections} == set(REGISTRY)
    tilesets = client.get("/tiles/collections/schools/tiles").json()["tilesets"]
    assert tilesets[0]["dataType"] == "vector"
    assert tilesets[0]["tileMatrixSetURI"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"


def test_tileset_metadata_leads_to_tiles(client: httpx.Client) -> None:
    meta = client.get("/tiles/collections/health_facilities/tiles/WebMercatorQuad").json()
    assert meta["layers"][0]["id"] == "health_facilities" and meta["layers"][0]["geometryDimension"] == 0
    assert set(meta["layers"][0]["propertiesSchema"]["properties"]) == set(REGISTRY["health_facilities"].mvt_fields)
    z, x, y = centre_tile(13)
    limits = {lim["tileMatrix"]: lim for lim in meta["tileMatrixSetLimits"]}
    assert limits[str(z)]["minTileCol"] <= x <= limits[str(z)]["maxTileCol"]
    assert limits[str(z)]["minTileRow"] <= y <= limits[str(z)]["maxTileRow"]
    template = next(link["href"] for link in meta["links"] if link["rel"] == "item")
    url = template.replace("{tileMatrix}", str(z)).replace("{tileRow}", str(y)).replace("{tileCol}", str(x))
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    basemap = client.get("/tiles/tiles/WebMercatorQuad").json()
    assert [layer["id"] for layer in basemap["layers"]] == [layer.id for layer in BASEMAP.layers]
