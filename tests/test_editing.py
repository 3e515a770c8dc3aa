"""Editing over OGC API Features Part 4 with real clients: OWSLib (create, replace, delete) and httpx (PATCH,
If-Match); who may edit what; validation naming the field; history with authors and restore; the count and a
tile covering the feature follow every change; and QGIS's mode (HUEGIS_EDIT_IF_MATCH=optional)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import auth_helpers
import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
import requests
from app_server import app_server
from owslib.ogcapi.features import Features
from owslib.util import Authentication

from geo.settings import Settings

TMS = morecantile.tms.get("WebMercatorQuad")
FRESH = {"Cache-Control": "no-cache"}  # tiles: re-read the layer versions now
GEOJSON = {"Content-Type": "application/geo+json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
SPOT = (107.5912, 16.4633)  # Phường Thuận Hóa (19789), east bank of the Perfume River
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"


def clinic(name: str | None, lon: float = SPOT[0], lat: float = SPOT[1], **properties: Any) -> dict[str, Any]:
    """A health facility as a GeoJSON Feature."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "facility_type": "clinic", "ownership": "private", "beds": 4, **properties},
    }


class Staff(requests.auth.AuthBase):
    """OWSLib's requests carry these headers (the bearer token, and If-Match for conditional writes)."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.headers)
        return request


def owslib(server: str, headers: dict[str, str]) -> Features:
    return Features(f"{server}/ogc", auth=Authentication(auth_delegate=Staff(headers)))


def matched(client: httpx.Client, layer: str) -> int:
    """numberMatched of the layer's items, as any OGC client reads it."""
    return client.get(f"/ogc/collections/{layer}/items", params={"limit": 1}).json()["numberMatched"]


def tile_ids(client: httpx.Client, layer: str, lon: float, lat: float, z: int = 16) -> set[int]:
    """The feature ids in the vector tile covering (lon, lat)."""
    tile = TMS.tile(lon, lat, z)
    response = client.get(f"/tiles/{layer}/{z}/{tile.x}/{tile.y}.mvt", headers=FRESH)
    if response.status_code == 204:
        return set()
    assert response.status_code == 200, response.text
    return {f["id"] for f in mapbox_vector_tile.decode(response.content).get(layer, {"features": []})["features"]}


def etag_of(client: httpx.Client, layer: str, fid: str | int) -> str:
    response = client.get(f"/ogc/collections/{layer}/items/{fid}")
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def history(client: httpx.Client, layer: str, fid: str | int, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(f"/api/layers/{layer}/features/{fid}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["versions"]


@pytest.fixture
def admin(staff_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
    return staff_headers("gis_admin")


@pytest.fixture
def made(client: httpx.Client, admin: dict[str, str], db: psycopg.Connection) -> Iterator[Callable[..., str]]:
    """Create health facilities through the API (as a GIS administrator); removed afterwards."""
    ids: list[str] = []

    def make(name: str, **kwargs: Any) -> str:
        response = client.post("/ogc/collections/health_facilities/items", json=clinic(name, **kwargs),
                               headers={**admin, **GEOJSON})  # fmt: skip
        assert response.status_code == 201, response.text
        ids.append(response.headers["Location"].rsplit("/", 1)[1])
        return ids[-1]

    yield make
    db.execute("DELETE FROM health_facilities WHERE id = ANY(%s)", ([int(i) for i in ids],))


# --- discovery ----------------------------------------------------------------------------------


def test_options_and_allow_advertise_editing_where_it_exists(client: httpx.Client) -> None:
    """QGIS enables editing from OPTIONS: POST on an editable layer's items, PUT/PATCH/DELETE on its features."""
    items = client.options("/ogc/collections/health_facilities/items")
    assert items.status_code == 204
    assert [m.strip() for m in items.headers["Allow"].split(",")] == ["GET", "HEAD", "OPTIONS", "POST"]
    item = client.options("/ogc/collections/health_facilities/items/1")
    assert set(item.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}
    for derived in ("kpi_unit_month", "hotspot_cells", "storm_exposure", "flood_scenarios", "rasters",
                    "planning_conflicts", "citizen_reports"):  # fmt: skip
        assert client.options(f"/ogc/collections/{derived}/items").headers["Allow"] == "GET, HEAD, OPTIONS"
        assert client.options(f"/ogc/collections/{derived}/items/1").headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.options("/ogc/collections/no_such_layer/items").status_code == 404


def test_conformance_declares_part4(client: httpx.Client) -> None:
    classes = client.get("/ogc/conformance", params={"f": "json"}).json()["conformsTo"]
    for name in ("create-replace-delete", "update", "optimistic-locking-etags", "features"):
        assert PART4 + name in classes


def test_items_carry_an_etag_that_changes_with_the_feature(client: httpx.Client, made: Callable[..., str],
                                                           admin: dict[str, str]) -> None:  # fmt: skip
    fid = made("Phòng khám ETag")
    first = etag_of(client, "health_facilities", fid)
    assert first == etag_of(client, "health_facilities", fid), "the same feature, the same tag"
    patched = client.patch(f"/ogc/collections/health_facilities/items/{fid}", json={"properties": {"beds": 9}},
                           headers={**admin, **MERGE_PATCH, "If-Match": first})  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.headers["ETag"] == etag_of(client, "health_facilities", fid) != first


# --- the whole cycle with real clients ------------------------------------------------------------


def test_create_replace_patch_delete_with_owslib_and_httpx(
    server: str, client: httpx.Client, admin: dict[str, str], db: psycopg.Connection, loaded: Settings
) -> None:
    """As a GIS administrator: OWSLib creates, replaces and deletes, httpx patches; each write shows at once
    in numberMatched and in the tile covering the feature, and the history lists every change by its author."""
    count = matched(client, "health_facilities")
    api = owslib(server, admin)
    assert api.collection_item_create("health_facilities", clinic("Phòng khám Phú Hội (thử)")) is True
    location = api.response_headers["Location"]
    fid = location.rsplit("/", 1)[1]
    assert location == f"{server}/ogc/collections/health_facilities/items/{fid}"
    assert matched(client, "health_facilities") == count + 1
    assert int(fid) in tile_ids(client, "health_facilities", *SPOT)
    created = api.collection_item("health_facilities", fid)
    assert created["properties"]["name"] == "Phòng khám Phú Hội (thử)"
    assert created["properties"]["ward_code"] == "19789"  # derived from the geometry: Thuận Hóa
    assert created["properties"]["synthetic"] is False

    # Replace (PUT) with OWSLib, sending the ETag it read back in If-Match; the feature moves across the river.
    moved = (107.5858, 16.4702)
    replacement = clinic("Phòng khám Phú Hội (đã chuyển)", *moved, beds=12)
    headers = {**admin, "If-Match": etag_of(client, "health_facilities", fid)}
    assert owslib(server, headers).collection_item_update("health_facilities", fid, replacement) is True
    replaced = client.get(f"/ogc/collections/health_facilities/items/{fid}").json()
    assert replaced["geometry"]["coordinates"] == list(moved)
    assert replaced["properties"]["beds"] == 12 and replaced["properties"]["ward_code"] != "19789"
    assert int(fid) in tile_ids(client, "health_facilities", *moved)
    assert int(fid) not in tile_ids(client, "health_facilities", *SPOT)

    # Patch (JSON merge patch) with plain HTTP: one property; null clears another.
    etag = etag_of(client, "health_facilities", fid)
    patched = client.patch(f"/ogc/collections/health_facilities/items/{fid}",
                           json={"properties": {"ownership": "public", "beds": None}},
                           headers={**admin, **MERGE_PATCH, "If-Match": etag})  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["properties"] | {"ownership": "public", "beds": None} == patched.json()["properties"]
    assert patched.json()["properties"]["name"] == "Phòng khám Phú Hội (đã chuyển)"

    # Delete with OWSLib.
    headers = {**admin, "If-Match": etag_of(client, "health_facilities", fid)}
    assert owslib(server, headers).collection_item_delete("health_facilities", fid) is True
    assert client.get(f"/ogc/collections/health_facilities/items/{fid}").status_code == 404
    assert matched(client, "health_facilities") == count
    assert int(fid) not in tile_ids(client, "health_facilities", *moved)

    author = auth_helpers.account_name("gis_admin")
    versions = history(client, "health_facilities", fid, admin)
    assert [(v["version"], v["action"], v["actor"], v["role"]) for v in versions] == [
        (1, "create", author, "gis_admin"),
        (2, "replace", author, "gis_admin"),
        (3, "patch", author, "gis_admin"),
        (4, "delete", author, "gis_admin"),
    ]
    assert versions[0]["before"] is None and versions[3]["after"] is None
    assert versions[1]["before"]["geometry"]["coordinates"] == list(SPOT)
    assert versions[1]["after"]["geometry"]["coordinates"] == list(moved)
    assert versions[2]["before"]["properties"]["beds"] == 12 and versions[2]["after"]["properties"]["beds"] is None
    audit = db.execute("SELECT action, actor FROM audit_log WHERE object_type = 'feature' AND object_id = %s "
                       "ORDER BY id", (f"health_facilities/{fid}",)).fetchall()  # fmt: skip
    assert audit == [(f"feature_{a}", author) for a in ("create", "replace", "patch", "delete")]


# --- refusals change nothing --------------------------------------------------------------------


def snapshot(client: httpx.Client, db: psycopg.Connection, fid: str) -> tuple:
    """What a refused write must leave as it was: the feature, the count, its history."""
    feature = client.get(f"/ogc/collections/health_facilities/items/{fid}").json()
    versions = db.execute("SELECT count(*) FROM feature_history WHERE layer_id = 'health_facilities' "
                          "AND feature_id = %s", (fid,)).fetchone()  # fmt: skip
    return feature["properties"], feature["geometry"], matched(client, "health_facilities"), versions


def test_refused_writes_change_nothing(
    client: httpx.Client, made: Callable[..., str], admin: dict[str, str], db: psycopg.Connection,
    staff_headers: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    fid = made("Phòng khám không đổi")
    etag = etag_of(client, "health_facilities", fid)
    item = f"/ogc/collections/health_facilities/items/{fid}"
    body = clinic("Đổi tên trái phép")
    ward_officer = staff_headers("ward_officer", unit="19789")
    other_department = staff_headers("department_officer", department="so_xay_dung")
    ward_head = staff_headers("unit_head", unit="19789")
    before = snapshot(client, db, fid)
    cases = [
        ("anonymous", "PUT", item, {"If-Match": etag}, 401),
        ("anonymous", "POST", "/ogc/collections/health_facilities/items", {}, 401),
        ("anonymous", "DELETE", item, {"If-Match": etag}, 401),
        ("ward officer", "PUT", item, {**ward_officer, "If-Match": etag}, 403),
        ("ward officer", "DELETE", item, {**ward_officer, "If-Match": etag}, 403),
        ("head of a ward", "PATCH", item, {**ward_head, "If-Match": etag}, 403),
        ("another department", "PUT", item, {**other_department, "If-Match": etag}, 403),
        ("another department", "POST", "/ogc/collections/health_facilities/items", other_department, 403),
        ("stale ETag", "PUT", item, {**admin, "If-Match": '"0123456789abcdef0123456789abcdef"'}, 412),
        ("stale ETag", "DELETE", item, {**admin, "If-Match": '"0123456789abcdef0123456789abcdef"'}, 412),
        ("weak ETag", "PUT", item, {**admin, "If-Match": f"W/{etag}"}, 412),
        ("no If-Match", "PUT", item, admin, 428),
        ("no If-Match", "PATCH", item, admin, 428),
        ("no If-Match", "DELETE", item, admin, 428),
    ]
    for who, method, path, headers, status in cases:
        payload = {"properties": {"name": "x"}} if method == "PATCH" else body
        response = client.request(method, path, json=payload, headers={**GEOJSON, **headers})
        assert response.status_code == status, (who, method, response.status_code, response.text)
        assert response.json()["detail"], "a refusal says why"
        assert snapshot(client, db, fid) == before, (who, method)
    # Derived layers and citizen reports refuse every write, whoever asks (405 with Allow).
    for layer in ("kpi_unit_month", "hotspot_cells", "storm_exposure", "flood_scenarios", "rasters",
                  "planning_conflicts", "citizen_reports"):  # fmt: skip
        response = client.post(f"/ogc/collections/{layer}/items", json=body, headers={**admin, **GEOJSON})
        assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, OPTIONS", layer
        response = client.delete(f"/ogc/collections/{layer}/items/1", headers={**admin, "If-Match": "*"})
        assert response.status_code == 405, layer
    assert "workflow" in client.post("/ogc/collections/citizen_reports/items", json=body,
                                     headers={**admin, **GEOJSON}).json()["detail"]  # fmt: skip
    assert snapshot(client, db, fid) == before


def test_a_department_edits_the_layers_it_owns(
    client: httpx.Client, made: Callable[..., str], staff_headers: Callable[..., dict[str, str]]
) -> None:
    """Sở Y tế maintains health facilities; not schools (Sở Giáo dục và Đào tạo)."""
    health = staff_headers("department_officer", department="so_y_te")
    fid = made("Trạm y tế của Sở")
    response = client.patch(
        f"/ogc/collections/health_facilities/items/{fid}",
        json={"properties": {"beds": 20}},
        headers={**health, **MERGE_PATCH, "If-Match": etag_of(client, "health_facilities", fid)},
    )
    assert response.status_code == 200, response.text
    school = client.options("/ogc/collections/schools/items")  # editable, by someone else
    assert "POST" in school.headers["Allow"]
    refused = client.post(
        "/ogc/collections/schools/items",
        headers={**health, **GEOJSON},
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(SPOT)},
            "properties": {"name": "x", "school_level": "primary", "ownership": "public"},
        },
    )
    assert refused.status_code == 403
    assert "so_giao_duc_dao_tao" in refused.json()["detail"]


# --- validation ---------------------------------------------------------------------------------

BOWTIE = [[107.58, 16.46], [107.59, 16.47], [107.59, 16.46], [107.58, 16.47], [107.58, 16.46]]
FLAT = [[107.58, 16.46], [107.59, 16.46], [107.60, 16.46], [107.58, 16.46]]


@pytest.mark.parametrize(
    ("body", "headers", "status", "names"),
    [
        (clinic("x", beds="four"), GEOJSON, 400, "properties.beds"),
        (clinic("x", beds=True), GEOJSON, 400, "properties.beds"),
        (clinic("x", beds=2**40), GEOJSON, 400, "properties.beds"),
        (clinic("x", colour="red"), GEOJSON, 400, "'colour'"),
        (clinic("x", facility_type="spa"), GEOJSON, 400, "facility_type"),
        (clinic(None), GEOJSON, 400, "properties.name"),
        (clinic("x") | {"properties": {"beds": 1}}, GEOJSON, 400, "missing required"),
        (clinic("trạm\x00"), GEOJSON, 400, "properties.name"),
        (clinic("x") | {"geometry": {"type": "LineString", "coordinates": [[107.58, 16.46], [107.59, 16.47]]}},
         GEOJSON, 400, "geometry"),
        (clinic("x", lon=106.2), GEOJSON, 400, "outside Thành phố Huế"),
        (clinic("x", lon=560000.0, lat=1815000.0), GEOJSON, 400, "longitude, latitude"),  # TM-3 metres, not degrees
        (clinic("x") | {"geometry": {"type": "Point", "coordinates": "here"}}, GEOJSON, 400, "geometry"),
        (clinic("x") | {"geometry": None}, GEOJSON, 400, "geometry"),
        (clinic("x") | {"type": "FeatureCollection"}, GEOJSON, 400, "type"),
        ([clinic("x")], GEOJSON, 400, "GeoJSON Feature"),
        ("not json {", GEOJSON, 400, "not valid JSON"),
        ('{"type": "Feature", "properties": {"beds": NaN}}', GEOJSON, 400, "NaN"),
        (clinic("x"), {"Content-Type": "text/csv"}, 415, "application/geo+json"),
        (clinic("x"), {**GEOJSON, "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/9214>"}, 400,
         "Content-Crs"),
    ],
    ids=["text-for-integer", "boolean-for-integer", "integer-out-of-range", "unknown-property", "vocabulary",
         "null-required", "missing-required", "nul-character", "wrong-geometry-type", "outside-the-city",
         "projected-coordinates", "unreadable-geometry", "no-geometry", "collection", "array", "not-json", "nan",
         "media-type", "content-crs"],
)  # fmt: skip
def test_invalid_features_are_refused_naming_the_problem(
    client: httpx.Client, admin: dict[str, str], body: Any, headers: dict[str, str], status: int, names: str
) -> None:
    count = matched(client, "health_facilities")
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, str) else {"json": body}
    response = client.post("/ogc/collections/health_facilities/items", headers={**admin, **headers}, **kwargs)
    assert response.status_code == status, response.text
    assert names in response.json()["detail"]
    assert matched(client, "health_facilities") == count, "nothing written"


def test_polygons_are_repaired_when_the_type_survives_and_refused_otherwise(
    client: httpx.Client, admin: dict[str, str], db: psycopg.Connection
) -> None:
    """A bow-tie zone becomes two triangles (ST_MakeValid); a flat ring has no area to keep."""
    zone = {"plan_code": "QH-TEST-BOWTIE", "name": "Khu thử", "zone_type": "green_space"}
    bowtie = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [BOWTIE]}, "properties": zone}
    created = client.post("/ogc/collections/planning_zones/items", json=bowtie, headers={**admin, **GEOJSON})
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    try:
        assert created.json()["geometry"]["type"] == "MultiPolygon"
        assert len(created.json()["geometry"]["coordinates"]) == 2
        assert db.execute("SELECT ST_IsValid(geom) FROM planning_zones WHERE id = %s", (fid,)).fetchone() == (True,)
        note = history(client, "planning_zones", fid, admin)[0]["note"]
        assert "ST_MakeValid" in note and "Self-intersection" in note
        flat = {**bowtie, "properties": {**zone, "plan_code": "QH-TEST-FLAT"},
                "geometry": {"type": "Polygon", "coordinates": [FLAT]}}  # fmt: skip
        refused = client.post("/ogc/collections/planning_zones/items", json=flat, headers={**admin, **GEOJSON})
        assert refused.status_code == 400 and "cannot be repaired" in refused.json()["detail"]
        twice = client.post("/ogc/collections/planning_zones/items", json=bowtie, headers={**admin, **GEOJSON})
        assert twice.status_code == 409 and "plan_code" in twice.json()["detail"]  # a unique key
    finally:
        db.execute("DELETE FROM planning_zones WHERE id = %s", (fid,))


def test_put_replaces_and_patch_merges(client: httpx.Client, made: Callable[..., str], admin: dict[str, str]) -> None:
    """PUT: what the body omits becomes null (server-kept fields are ignored, as QGIS sends them back); PATCH:
    only what it names changes; a body id must be the URL's."""
    fid = made("Phòng khám PUT", beds=7)
    item = f"/ogc/collections/health_facilities/items/{fid}"
    current = client.get(item).json()
    sent = {**current, "properties": {**current["properties"], "beds": None, "synthetic": True, "updated_at": "x",
                                      "ward_code": "00000"}}  # fmt: skip
    sent["properties"].pop("ownership")
    response = client.put(item, json=sent, headers={**admin, **GEOJSON, "If-Match": etag_of(client, *item_of(fid))})
    assert response.status_code == 400 and "ownership" in response.json()["detail"]  # required, now missing
    sent["properties"]["ownership"] = "public"
    response = client.put(item, json=sent, headers={**admin, **GEOJSON, "If-Match": etag_of(client, *item_of(fid))})
    assert response.status_code == 200, response.text
    replaced = response.json()["properties"]
    assert replaced["beds"] is None and replaced["synthetic"] is False and replaced["ward_code"] == "19789"
    assert replaced["updated_at"] != current["properties"]["updated_at"]
    wrong_id = client.put(item, json={**sent, "id": 1}, headers={**admin, **GEOJSON, "If-Match": "*"})
    assert wrong_id.status_code == 400 and "id" in wrong_id.json()["detail"]
    nothing = client.patch(item, json={"properties": {"updated_at": "x"}},
                           headers={**admin, **MERGE_PATCH, "If-Match": "*"})  # fmt: skip
    assert nothing.status_code == 400 and "nothing to change" in nothing.json()["detail"]
    unknown = client.patch(item, json={"colour": "red"}, headers={**admin, **MERGE_PATCH, "If-Match": "*"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["detail"]
    drop_geometry = client.patch(item, json={"geometry": None}, headers={**admin, **MERGE_PATCH, "If-Match": "*"})
    assert drop_geometry.status_code == 400 and "geometry" in drop_geometry.json()["detail"]
    anonymous = {**sent, "id": None}  # no id in the body: the URL's applies
    for missing in ("999999999", "abc"):
        response = client.put(f"/ogc/collections/health_facilities/items/{missing}", json=anonymous,
                              headers={**admin, **GEOJSON, "If-Match": "*"})  # fmt: skip
        assert response.status_code == 404, response.text


def item_of(fid: str) -> tuple[str, str]:
    return "health_facilities", fid


# --- history and restore ------------------------------------------------------------------------


def test_history_is_for_editors_and_restore_for_gis_administrators(
    client: httpx.Client, made: Callable[..., str], admin: dict[str, str],
    staff_headers: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    fid = made("Phòng khám lịch sử", beds=1)
    item = f"/ogc/collections/health_facilities/items/{fid}"
    health = staff_headers("department_officer", department="so_y_te")
    for beds in (2, 3):
        response = client.patch(
            item,
            json={"properties": {"beds": beds}},
            headers={**health, **MERGE_PATCH, "If-Match": etag_of(client, *item_of(fid))},
        )
        assert response.status_code == 200, response.text
    assert client.delete(item, headers={**admin, "If-Match": etag_of(client, *item_of(fid))}).status_code == 204
    versions = history(client, "health_facilities", fid, health)  # the owning department reads it
    assert [v["actor"] for v in versions] == [auth_helpers.account_name("gis_admin"),
                                              *[auth_helpers.account_name("department_officer", "so_y_te")] * 2,
                                              auth_helpers.account_name("gis_admin")]  # fmt: skip
    ward = staff_headers("ward_officer", unit="19789")
    assert client.get(f"/api/layers/health_facilities/features/{fid}/history", headers=ward).status_code == 403
    assert client.get(f"/api/layers/health_facilities/features/{fid}/history").status_code == 401
    assert client.get("/api/layers/kpi_unit_month/features/1/history", headers=admin).status_code == 405

    restore = f"/api/layers/health_facilities/features/{fid}/history"
    assert client.post(f"{restore}/2/restore", headers=health).status_code == 403  # editors do not restore
    deleted = client.post(f"{restore}/4/restore", headers=admin)
    assert deleted.status_code == 400 and "version 3" in deleted.json()["detail"]
    assert client.post(f"{restore}/9/restore", headers=admin).status_code == 404
    back = client.post(f"{restore}/2/restore", headers=admin)  # the deleted feature comes back, same id
    assert back.status_code == 200, back.text
    assert back.json()["version"] == 5 and back.json()["feature"]["id"] == int(fid)
    assert client.get(item).json()["properties"]["beds"] == 2
    again = client.post(f"{restore}/3/restore", headers={**admin, "If-Match": '"stale"'})
    assert again.status_code == 412
    again = client.post(f"{restore}/3/restore", headers={**admin, "If-Match": back.headers["ETag"]})
    assert again.status_code == 200 and client.get(item).json()["properties"]["beds"] == 3
    last = history(client, "health_facilities", fid, admin)[-2:]
    assert [(v["action"], v["restored_from"]) for v in last] == [("restore", 2), ("restore", 3)]
    assert last[0]["note"] == "recreated from version 2"


# --- QGIS: no If-Match --------------------------------------------------------------------------


def test_optional_if_match_lets_qgis_style_writes_through(
    loaded: Settings, tmp_path: Any, made: Callable[..., str], client: httpx.Client, admin: dict[str, str]
) -> None:
    """QGIS sends PUT/PATCH/DELETE without If-Match: with HUEGIS_EDIT_IF_MATCH=optional they are accepted
    (last writer wins) and still kept in the history; a stale If-Match is still refused."""
    fid = made("Phòng khám QGIS")
    env = {**os.environ, "HUEGIS_DB_NAME": loaded.db_name, "HUEGIS_PYGEOAPI_OPENAPI": str(loaded.pygeoapi_openapi),
           "HUEGIS_EDIT_IF_MATCH": "optional"}  # fmt: skip
    with app_server(env, tmp_path / "uvicorn.log") as app, httpx.Client(base_url=app.url, timeout=30) as qgis:
        item = f"/ogc/collections/health_facilities/items/{fid}"
        # What QGIS sends: a PATCH of the changed attributes, as application/merge-patch+json, no If-Match.
        response = qgis.patch(item, content=b'{"properties":{"beds":30}}', headers={**admin, **MERGE_PATCH})
        assert response.status_code == 200, response.text
        assert qgis.patch(item, json={"properties": {"beds": 31}},
                          headers={**admin, **MERGE_PATCH, "If-Match": '"stale"'}).status_code == 412  # fmt: skip
    assert client.get(item).json()["properties"]["beds"] == 30
    assert history(client, "health_facilities", fid, admin)[-1]["action"] == "patch"
    # The suite's server keeps the default: If-Match required.
    assert client.patch(item, json={"properties": {"beds": 5}}, headers={**admin, **MERGE_PATCH}).status_code == 428
