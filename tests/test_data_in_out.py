"""City data in and out: VN-2000 files read within metres of the truth, bad files refused with a
report and nothing written, new layers published by the running app without a restart, every
layer round-tripped through a VN-2000 Shapefile, exports, and the QGIS project opened by PyQGIS."""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import httpx
import pandas as pd
import psycopg
import pytest
import shapely
from psycopg import AsyncConnection
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from geo.audit import Actor
from geo.errors import InvalidInput, NotFound
from geo.imported import drop_layer
from geo.registry import LAYERS
from geo.settings import Settings
from layers.city_files import read_city_file
from layers.exports import read_layer, target_crs, write_file
from layers.imports import ImportOptions, ImportRefused, ImportReport, import_file, plan_import

ACTOR = Actor("test:importer", "gis_admin")
GEOD = Geod(ellps="WGS84")
# Places in Huế whose WGS 84 position is the truth the VN-2000 files are built from.
TRUTH = {
    "Đại Nội Huế": (107.578800, 16.469800),
    "Chợ Đông Ba": (107.588000, 16.473500),
    "Chùa Thiên Mụ": (107.544700, 16.453300),
    "Cầu Trường Tiền": (107.590300, 16.467600),
    "Lăng Tự Đức": (107.567500, 16.433400),
    "Cửa Thuận An": (107.625000, 16.563000),
}
OGR2OGR = shutil.which("ogr2ogr") or "/usr/bin/ogr2ogr"
QGIS_PYTHON = "/usr/bin/python3"


def run_import(settings: Settings, path: Path, **options: Any) -> ImportReport:
    """Read ``path`` and import it in-process (the CLI's and the API's code path)."""
    read_options = {k: options.pop(k) for k in ("crs", "x", "y", "encoding", "source_layer") if k in options}
    source = read_city_file(path, **read_options)

    async def main() -> ImportReport:
        async with await AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
            return await import_file(conn, source, ImportOptions(**options), actor=ACTOR)

    return asyncio.run(main())


def drop(settings: Settings, *layer_ids: str) -> None:
    """Remove imported layers as `huegis layers remove` does, so a running app hears of it (none: no-op)."""

    async def main() -> None:
        async with await AsyncConnection.connect(settings.conninfo(), autocommit=True) as conn:
            for layer_id in layer_ids:
                try:
                    async with conn.transaction():
                        await drop_layer(conn, layer_id)
                except NotFound:
                    pass

    asyncio.run(main())


def nothing_written(db: psycopg.Connection, layer_id: str) -> bool:
    table = db.execute("SELECT to_regclass(%s)", (f"public.{layer_id}",)).fetchone()
    entry = db.execute("SELECT 1 FROM imported_layers WHERE id = %s", (layer_id,)).fetchone()
    logged = db.execute("SELECT 1 FROM layer_imports WHERE layer_id = %s", (layer_id,)).fetchone()
    return table == (None,) and entry is None and logged is None


@pytest.fixture
def truth_geojson(tmp_path: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {"ten": list(TRUTH), "dia_chi": ["Huế"] * len(TRUTH)},
        geometry=[shapely.Point(*lonlat) for lonlat in TRUTH.values()],
        crs=4326,
    )
    path = tmp_path / "truth.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def gdal(*args: str) -> None:
    """The system's ogr2ogr (gdal-bin): another GDAL and PROJ than the ones we read with."""
    subprocess.run([OGR2OGR, *args], check=True, capture_output=True)


def distances_m(db: psycopg.Connection, layer_id: str) -> dict[str, float]:
    rows = db.execute(f'SELECT name, ST_X(geom), ST_Y(geom) FROM "{layer_id}"').fetchall()
    out = {}
    for name, lon, lat in rows:
        true_lon, true_lat = TRUTH[name]
        out[name] = GEOD.inv(lon, lat, true_lon, true_lat)[2]
    return out


# --- VN-2000 ---------------------------------------------------------------------------------


def test_vn2000_shapefile_with_esri_prj_lands_within_3_m(loaded: Settings, db, truth_geojson: Path, tmp_path: Path):
    shp = tmp_path / "diem_vn2000.shp"
    gdal("-f", "ESRI Shapefile", "-t_srs", "EPSG:9214", "-lco", "ENCODING=UTF-8", str(shp), str(truth_geojson))
    prj = shp.with_suffix(".prj").read_text()
    assert "Vietnam_2000" in prj and "AUTHORITY" not in prj and "EPSG" not in prj  # an ESRI .prj, no code
    try:
        report = run_import(loaded, shp, layer_id="vn2000_points")
        assert report.rows_imported == len(TRUTH)
        assert "VN-2000 to WGS 84" in report.transformation and "allpark" not in report.transformation
        assert report.transformation_accuracy_m == 1.0
        errors = distances_m(db, "vn2000_points")
        print(f"VN-2000 .prj shapefile: max error {max(errors.values()):.3f} m")
        assert max(errors.values()) < 3.0, errors
    finally:
        drop(loaded, "vn2000_points")


def test_vn2000_csv_in_tm3_with_crs_lands_within_3_m(loaded: Settings, db, truth_geojson: Path, tmp_path: Path):
    csv = tmp_path / "diem_tm3.csv"
    gdal("-f", "CSV", "-t_srs", "EPSG:9214", "-lco", "GEOMETRY=AS_XY", str(csv), str(truth_geojson))
    assert csv.read_text().splitlines()[0].startswith("X,Y")
    with pytest.raises(InvalidInput) as refused:
        read_city_file(csv)  # no CRS and TM-3 metres: the likely zone is named
    assert "EPSG:9214" in str(refused.value) and "VN-2000" in str(refused.value)
    try:
        report = run_import(loaded, csv, layer_id="vn2000_csv", crs="EPSG:9214", x="X", y="Y")
        assert report.crs_from == "--crs" and report.rows_imported == len(TRUTH)
        errors = distances_m(db, "vn2000_csv")
        print(f"VN-2000 TM-3 CSV: max error {max(errors.values()):.3f} m")
        assert max(errors.values()) < 3.0, errors
    finally:
        drop(loaded, "vn2000_csv")


# --- bad files -------------------------------------------------------------------------------


def _shapefile(tmp_path: Path, name: str, frame: gpd.GeoDataFrame, **kwargs: Any) -> Path:
    path = tmp_path / f"{name}.shp"
    frame.to_file(path, engine="pyogrio", **kwargs)
    return path


def test_no_crs_with_tm3_coordinates_is_refused_naming_the_zone(loaded: Settings, db, tmp_path: Path):
    frame = gpd.GeoDataFrame({"ten": ["a"]}, geometry=[shapely.Point(561_604, 1_821_650)], crs=9214)
    path = _shapefile(tmp_path, "khong_prj", frame)
    path.with_suffix(".prj").unlink()
    with pytest.raises(InvalidInput, match=r"pass --crs EPSG:9214"):
        run_import(loaded, path, layer_id="bad_no_crs")
    assert nothing_written(db, "bad_no_crs")


def test_unknown_crs_is_refused(loaded: Settings, db, tmp_path: Path):
    frame = gpd.GeoDataFrame({"ten": ["a"]}, geometry=[shapely.Point(561_604, 1_821_650)], crs=9214)
    path = _shapefile(tmp_path, "la", frame)
    path.with_suffix(".prj").write_text(
        'PROJCS["Local_Grid",GEOGCS["GCS_Local",DATUM["D_Local",SPHEROID["Everest_1830",6377276.345,300.8017]],'
        'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
        'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",107.0],'
        'PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
    )
    with pytest.raises(InvalidInput, match="no accurate transformation"):
        run_import(loaded, path, layer_id="bad_unknown_crs")
    assert nothing_written(db, "bad_unknown_crs")


def test_self_intersecting_ring_is_repaired_and_reported(loaded: Settings, db, tmp_path: Path):
    bowtie = shapely.Polygon([(107.57, 16.46), (107.59, 16.48), (107.59, 16.46), (107.57, 16.48), (107.57, 16.46)])
    square = shapely.box(107.55, 16.44, 107.56, 16.45)
    frame = gpd.GeoDataFrame({"ten": ["no", "ok"]}, geometry=[bowtie, square], crs=4326)
    path = tmp_path / "vung.geojson"
    frame.to_file(path, driver="GeoJSON")
    try:
        report = run_import(loaded, path, layer_id="repaired_zones")
        assert [issue.row for issue in report.repaired] == [1]
        assert "Self-intersection" in report.repaired[0].reason
        assert report.rows_imported == 2 and report.geometry_type == "MultiPolygon"
        valid = db.execute("SELECT bool_and(ST_IsValid(geom)) FROM repaired_zones").fetchone()
        assert valid == (True,)
    finally:
        drop(loaded, "repaired_zones")


def test_point_in_the_sea_is_rejected_with_its_row(loaded: Settings, db, tmp_path: Path):
    frame = gpd.GeoDataFrame(
        {"ten": ["Đại Nội", "Biển Đông"]}, geometry=[shapely.Point(107.5788, 16.4698), shapely.Point(107.9, 16.75)],
        crs=4326,
    )  # fmt: skip
    path = tmp_path / "bien.geojson"
    frame.to_file(path, driver="GeoJSON")
    try:
        report = run_import(loaded, path, layer_id="sea_points")
        assert report.rows_imported == 1 and report.outside_city == [2]
        assert [(i.row, i.reason) for i in report.rejected] == [
            (2, "outside the city (no ward or commune intersects it)")
        ]
    finally:
        drop(loaded, "sea_points")
    only_sea = tmp_path / "chi_bien.geojson"
    frame.iloc[[1]].to_file(only_sea, driver="GeoJSON")
    with pytest.raises(ImportRefused, match="nothing to import") as refused:
        run_import(loaded, only_sea, layer_id="sea_only")
    assert refused.value.report.outside_city == [1]
    assert nothing_written(db, "sea_only")


def test_wrong_key_column_is_refused(loaded: Settings, db, truth_geojson: Path):
    with pytest.raises(ImportRefused, match="key 'ma_truong' is not a column"):
        run_import(loaded, truth_geojson, layer_id="bad_key", key="ma_truong")
    assert nothing_written(db, "bad_key")
    with pytest.raises(ImportRefused, match="key 'ma_truong' is not a column"):
        run_import(loaded, truth_geojson, layer_id="schools", mode="upsert", key="ma_truong")


def test_dbf_in_cp1258_without_cpg_is_detected(loaded: Settings, db, tmp_path: Path):
    frame = gpd.GeoDataFrame(
        {"ten": ["Trường Tiểu học Thuận Hóa", "Chợ Đông Ba"]},
        geometry=[shapely.Point(107.5788, 16.4698), shapely.Point(107.588, 16.4735)],
        crs=4326,
    )
    path = _shapefile(tmp_path, "cp1258", frame, encoding="cp1258")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    raw = path.with_suffix(".dbf").read_bytes()
    assert b"Ch\xf5\xf2" in raw  # CP1258: "ợ" is "ơ" and a combining dot below
    try:
        report = run_import(loaded, path, layer_id="cp1258_points")
        assert report.encoding == "cp1258" and report.encoding_how == "detected from the text"
        names = {r[0] for r in db.execute("SELECT name FROM cp1258_points").fetchall()}
        assert names == {"Trường Tiểu học Thuận Hóa", "Chợ Đông Ba"}
    finally:
        drop(loaded, "cp1258_points")


def test_legacy_tcvn3_text_is_named_not_imported(loaded: Settings, db, tmp_path: Path):
    frame = gpd.GeoDataFrame({"ten": ["Truong"]}, geometry=[shapely.Point(107.5788, 16.4698)], crs=4326)
    path = _shapefile(tmp_path, "tcvn3", frame, encoding="latin1")
    dbf = path.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes().replace(b"Truong", b"Tr\xad\xeang"))
    path.with_suffix(".cpg").unlink(missing_ok=True)
    with pytest.raises(InvalidInput, match="TCVN3"):
        run_import(loaded, path, layer_id="tcvn3_points")
    assert nothing_written(db, "tcvn3_points")


def test_empty_file_and_zip_without_shp_are_refused(loaded: Settings, db, tmp_path: Path):
    empty = tmp_path / "rong.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InvalidInput, match="no rows"):
        run_import(loaded, empty, layer_id="empty_layer")
    archive = tmp_path / "thieu.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("doc_truoc.txt", "read me")
        z.writestr("data.dbf", b"\x03")
    with pytest.raises(InvalidInput, match=r"the zip holds no shapefile \(\.shp\); it holds doc_truoc"):
        run_import(loaded, archive, layer_id="zip_layer")
    assert nothing_written(db, "empty_layer") and nothing_written(db, "zip_layer")


def test_columns_that_share_a_name_once_made_ascii_both_arrive(tmp_path: Path) -> None:
    """A Shapefile cuts 'processed_share' to 'processed_', which is 'processed' made ASCII: a new layer keeps both."""
    frame = gpd.GeoDataFrame({"processed": [1], "processed_": [0.5], "Số tầng": [3]},
                             geometry=[shapely.Point(107.5788, 16.4698)], crs=4326)  # fmt: skip
    path = tmp_path / "cot.geojson"
    frame.to_file(path, driver="GeoJSON")
    plan = plan_import(read_city_file(path), ImportOptions(layer_id="columns"), existing=None)
    assert [(c.source, c.target, c.type) for c in plan.report.columns] == [
        ("processed", "processed", "integer"), ("processed_", "processed_2", "float"), ("Số tầng", "floors", "integer")
    ]  # fmt: skip
    assert plan.rows[0][1] == [1, 0.5, 3] and not plan.report.ignored_columns


# --- the API, the running app ----------------------------------------------------------------


def _post(client: httpx.Client, layer_id: str, path: Path, headers: dict[str, str], **form: Any) -> httpx.Response:
    with path.open("rb") as fh:
        return client.post(
            f"/api/layers/{layer_id}/imports", files={"file": (path.name, fh)}, data=form, headers=headers
        )


def test_api_import_publishes_the_layer_at_once(client: httpx.Client, staff_headers, db, truth_geojson: Path):
    admin = staff_headers("gis_admin")
    assert _post(client, "api_points", truth_geojson, {}).status_code == 401
    assert _post(client, "api_points", truth_geojson, staff_headers("ward_officer", unit="19753")).status_code == 403
    dry = _post(client, "api_points", truth_geojson, admin, dry_run="true", title="API points")
    assert dry.status_code == 200 and dry.json()["rows_imported"] == len(TRUTH) and not dry.json()["written"]
    assert nothing_written(db, "api_points")
    assert client.get("/ogc/collections/api_points").status_code == 404
    for lang in ("en", "vi"):  # pygeoapi's pages cache their configuration per language: fill it first
        assert client.get("/ogc/collections/schools", params={"f": "html", "lang": lang}).status_code == 200
    response = _post(client, "api_points", truth_geojson, admin, title="API points", title_vi="Điểm API")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["columns"][0] == {"source": "ten", "target": "name", "type": "text", "how": "Vietnamese name 'ten'"}
    try:
        collections = client.get("/ogc/collections", params={"f": "json"}).json()["collections"]
        assert "api_points" in [c["id"] for c in collections]
        items = client.get("/ogc/collections/api_points/items").json()
        assert items["numberMatched"] == len(TRUTH)
        assert {f["properties"]["name"] for f in items["features"]} == set(TRUTH)
        html = client.get("/ogc/collections/api_points/items", params={"f": "html"})
        assert html.status_code == 200 and "API points" in html.text
        for lang, title in (("en", "API points"), ("vi", "Điểm API")):
            html = client.get("/ogc/collections/api_points", params={"f": "html", "lang": lang})
            assert html.status_code == 200 and title in html.text
        cql = client.get("/ogc/collections/api_points/items", params={"filter": "name = 'Chợ Đông Ba'"}).json()
        assert len(cql["features"]) == 1
        assert client.get("/tiles/api_points/tilejson.json").json()["vector_layers"][0]["id"] == "api_points"
        assert client.get("/tiles/api_points/15/26175/14976.mvt").status_code in (200, 204)
        assert client.get("/maps/api_points").status_code == 200
        assert "api_points" in [layer["id"] for layer in client.get("/api/layers").json()]
        openapi = client.get("/ogc/openapi", params={"f": "json"}).json()
        assert {"/collections/api_points", "/collections/api_points/items"} <= set(openapi["paths"])
        assert "api_points" in [tag["name"] for tag in openapi["tags"]]
        # The same id again without a mode: 409 naming the modes; an upsert with the new key updates.
        again = _post(client, "api_points", truth_geojson, admin)
        assert again.status_code == 409 and "--mode append" in again.json()["detail"]
        upsert = _post(client, "api_points", truth_geojson, admin, mode="upsert", key="name")
        assert upsert.status_code == 201 and upsert.json()["rows_updated"] == len(TRUTH)
    finally:
        assert client.delete("/api/layers/api_points", headers=admin).status_code == 204
    assert client.get("/ogc/collections/api_points").status_code == 404
    openapi = client.get("/ogc/openapi", params={"f": "json"}).json()
    assert not [path for path in openapi["paths"] if path.startswith("/collections/api_points")]
    assert "/collections/schools/items" in openapi["paths"]  # the others stay
    assert client.delete("/api/layers/schools", headers=admin).status_code == 409


def test_an_imported_layer_is_edited_over_ogc_api_features(client: httpx.Client, staff_headers, db,
                                                           truth_geojson: Path) -> None:  # fmt: skip
    """Part 4 on a layer imported a moment ago: a GIS administrator creates and patches with If-Match; a
    department officer is refused; the history lists both changes; removing the layer removes its history."""
    admin, officer = staff_headers("gis_admin"), staff_headers("department_officer", department="so_y_te")
    assert _post(client, "edited_points", truth_geojson, admin).status_code == 201
    try:
        items = "/ogc/collections/edited_points/items"
        assert "POST" in client.options(items).headers["Allow"]
        point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [107.5795, 16.468]},
                 "properties": {"name": "Kỳ Đài", "address": "Huế"}}  # fmt: skip
        json_type = {"Content-Type": "application/geo+json"}
        assert client.post(items, json=point, headers={**officer, **json_type}).status_code == 403
        created = client.post(items, json=point, headers={**admin, **json_type})
        assert created.status_code == 201, created.text
        fid = created.headers["Location"].rsplit("/", 1)[1]
        assert client.get(items).json()["numberMatched"] == len(TRUTH) + 1
        etag = client.get(f"{items}/{fid}").headers["ETag"]
        merge = {**admin, "Content-Type": "application/merge-patch+json", "If-Match": etag}
        patched = client.patch(f"{items}/{fid}", json={"properties": {"name": "Kỳ Đài Huế"}}, headers=merge)
        assert patched.status_code == 200, patched.text
        assert patched.json()["properties"]["name"] == "Kỳ Đài Huế"
        versions = client.get(f"/api/layers/edited_points/features/{fid}/history", headers=admin).json()["versions"]
        assert [v["action"] for v in versions] == ["create", "patch"]
    finally:
        assert client.delete("/api/layers/edited_points", headers=admin).status_code == 204
    assert db.execute("SELECT count(*) FROM feature_history WHERE layer_id = 'edited_points'").fetchone() == (0,)


def test_cli_import_is_published_by_the_running_app(server: str, loaded: Settings, client, staff_headers, tmp_path,
                                                    truth_geojson: Path):  # fmt: skip
    env = {**os.environ, "HUEGIS_DB_NAME": loaded.db_name}
    command = [sys.executable, "-m", "cli.main", "import", str(truth_geojson), "--layer", "cli_points", "--json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows_imported"] == len(TRUTH)
    try:
        deadline = time.monotonic() + 15  # the app hears the commit's notification: wait for it, not a guess
        while client.get("/ogc/collections/cli_points").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        items = client.get("/ogc/collections/cli_points/items").json()
        assert items["numberMatched"] == len(TRUTH)
    finally:
        client.delete("/api/layers/cli_points", headers=staff_headers("gis_admin"))


def test_a_2_gb_upload_is_refused_before_it_is_read(server: str, staff_headers, db) -> None:
    """A declared 2 GB body is refused at once (nothing read); httpx will not send a short body, so a socket does."""
    host, port = server.removeprefix("http://").split(":")
    token = staff_headers("gis_admin")["Authorization"]
    request = (
        f"POST /api/layers/huge/imports HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {2 * 1024**3}\r\n"
        "Connection: close\r\n\r\n--x\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    answer = answer.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413") and "larger than the limit" in answer
    assert nothing_written(db, "huge")


def test_a_chunked_upload_is_cut_once_it_passes_the_cap(client: httpx.Client, staff_headers, loaded, db) -> None:
    """The import path's own cap (the suite sets 4 MiB; 512 MiB by default), counted as the bytes arrive."""
    cap = loaded.import_max_bytes
    assert cap <= 16 * 1024 * 1024, "the suite's servers run with a small import cap (tests/conftest.py)"
    assert cap != loaded.body_limit_bytes  # so the answer shows which cap applied
    sent = 0

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is counted as the bytes arrive
        nonlocal sent
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.geojson"\r\n\r\n'
        block = b" " * (256 * 1024)
        for _ in range(cap // len(block) + 8):
            sent += len(block)
            yield block

    headers = {**staff_headers("gis_admin"), "Content-Type": "multipart/form-data; boundary=x"}
    response = client.post("/api/layers/huge/imports", content=chunks(), headers=headers)
    assert response.status_code == 413 and f"limit of {cap // 2**20} MiB" in response.json()["detail"]
    assert nothing_written(db, "huge")


def test_bad_uploads_are_4xx_naming_the_problem(client: httpx.Client, staff_headers, db, tmp_path: Path) -> None:
    admin = staff_headers("gis_admin")
    shp = tmp_path / "lop.shp"
    shp.write_bytes(b"not really")
    response = _post(client, "bad_upload", shp, admin)
    assert response.status_code == 400 and "upload them zipped" in response.json()["detail"]
    empty = tmp_path / "rong.geojson"
    empty.write_bytes(b"")
    assert "empty" in _post(client, "bad_upload", empty, admin).json()["detail"]
    sea = tmp_path / "bien.geojson"
    gpd.GeoDataFrame({"ten": ["x"]}, geometry=[shapely.Point(107.9, 16.75)], crs=4326).to_file(sea, driver="GeoJSON")
    refused = _post(client, "bad_upload", sea, admin)
    assert refused.status_code == 400 and refused.json()["report"]["outside_city"] == [1]
    assert _post(client, "bad_upload", sea, admin, mode="sideways").status_code == 400
    assert nothing_written(db, "bad_upload")


# --- export --------------------------------------------------------------------------------


def test_export_api_zipped_shapefile_in_vn2000(client: httpx.Client) -> None:
    response = client.get("/api/layers/schools/export", params={"format": "shp", "crs": "EPSG:9214",
                                                                 "where": "school_level = 'primary'"})  # fmt: skip
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert {Path(n).suffix for n in archive.namelist()} >= {".shp", ".shx", ".dbf", ".prj", ".cpg"}
    assert "Vietnam_2000" in archive.read("schools.prj").decode()
    frame = gpd.read_file(io.BytesIO(response.content))
    assert len(frame) > 0 and set(frame["school_lev"]) == {"primary"}
    for fmt in ("gpkg", "csv", "geojson"):
        assert client.get("/api/layers/health_facilities/export", params={"format": fmt}).status_code == 200


def test_cli_export_in_vn2000_and_its_where_refuses_sql(loaded: Settings, db, tmp_path: Path) -> None:
    """`huegis export` writes a VN-2000 shapefile of the rows asked; a hostile --where: exit 1 naming the problem."""
    env = {**os.environ, "HUEGIS_DB_NAME": loaded.db_name}

    def export(file: Path, where: str, *more: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cli.main", "export", "schools", str(file), "--where", where, *more]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    archive = tmp_path / "truong_hoc.zip"
    done = export(archive, "school_level = 'primary'", "--crs", "EPSG:9214")
    assert done.returncode == 0, done.stderr
    frame = gpd.read_file(archive)
    primary = db.execute("SELECT count(*) FROM schools WHERE school_level = 'primary'").fetchone()[0]
    assert len(frame) == primary > 0 and "VN-2000" in done.stdout and "Vietnam_2000" in frame.crs.to_wkt("WKT1_ESRI")
    schools = db.execute("SELECT count(*) FROM schools").fetchone()
    for where, message in (("students > 1; DROP TABLE schools", "not an ECQL expression"),
                           ("name = 'a' OR 1=1", "starts with a column name"),
                           ("pg_sleep(10) = 1", "not Function")):  # fmt: skip
        out = tmp_path / "khong.geojson"
        refused = export(out, where)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr and not out.exists()
    assert db.execute("SELECT count(*) FROM schools").fetchone() == schools


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"where": "students > 1; DROP TABLE schools"}, "not an ECQL expression"),
        ({"where": "password = 'x'"}, "'password' is not a column"),
        ({"format": "dwg"}, "format 'dwg'"),
        ({"crs": "EPSG:999999"}, "not a CRS"),
        ({"bbox": "1,2,3"}, "bbox"),
    ],
)
def test_export_refuses_what_it_cannot_do_safely(client: httpx.Client, params: dict, message: str) -> None:
    response = client.get("/api/layers/schools/export", params=params)
    assert response.status_code == 400 and message in response.json()["detail"]
    assert client.get("/api/layers/schools/export", params={"format": "csv"}).status_code == 200  # still there


# Hostile filters on an export (the CLI's --where is the same code): SQL, ECQL the export does not
# run (functions, arithmetic, spatial and column-to-column tests), values of another type than
# their column's, columns that are not published (a report's free text), and sheer size.
HOSTILE_WHERE = [
    ("schools", "students > 1; DROP TABLE schools", "not an ECQL expression"),
    ("schools", "1=1", "starts with a column name"),
    ("schools", "name = 'a' OR 1=1", "starts with a column name"),
    ("schools", "pg_sleep(10) = 1", "not Function"),
    ("schools", "strToUpperCase(name) = 'A'", "not Function"),
    ("schools", "students + 1 > 2", "not Add"),
    ("schools", "name = students", "compare name with a value"),
    ("schools", "INTERSECTS(geom, POINT(107.58 16.47))", "GeometryIntersects is not supported"),
    ("schools", "students = 'abc'", "students is a number"),
    ("schools", "school_level > 5", "school_level is text"),
    ("schools", "students LIKE '1%'", "LIKE compares a text column"),
    ("schools", "synthetic = 'maybe'", "synthetic is true or false"),
    ("schools", "updated_at > 'yesterday'", "updated_at must be a date-time"),
    ("schools", "updated_at AFTER 9999-01-01T00:00:00Z", "between 1900-01-01 and 2200-01-01"),
    ("schools", "students = 99999999999999999999999999", "does not fit its column"),
    ("schools", "password = 'x'", "'password' is not a column"),
    ("citizen_reports", "description LIKE '%'", "'description' is not a column"),
    ("citizen_reports", "idempotency_key IS NOT NULL", "'idempotency_key' is not a column"),
    ("schools", "name = '" + "x" * 5000 + "'", "more than 4000"),
    ("schools", " OR ".join(f"id = {i}" for i in range(300)), "more than 200 conditions"),
]


@pytest.mark.parametrize(("layer", "where", "message"), HOSTILE_WHERE, ids=[w[:30] for _, w, _ in HOSTILE_WHERE])
def test_export_where_refuses_hostile_filters(client: httpx.Client, layer: str, where: str, message: str) -> None:
    response = client.get(f"/api/layers/{layer}/export", params={"format": "geojson", "where": where})
    assert response.status_code == 400 and message in response.json()["detail"], response.text[:300]
    assert "description" not in response.json()["detail"].partition("columns:")[2]  # unpublished: never listed


def test_export_where_values_stay_values(client: httpx.Client, db) -> None:
    """SQL inside an ECQL string is part of the value; typed values select what SQL selects; no free text leaks."""

    def names(where: str) -> list[str]:
        response = client.get("/api/layers/schools/export", params={"format": "geojson", "where": where})
        assert response.status_code == 200, response.text[:300]
        return [feature["properties"]["name"] for feature in response.json()["features"]]

    assert names("name = 'x\"; DROP TABLE schools; --'") == []
    assert names("name IN (" + ", ".join(f"'n{i}'" for i in range(300)) + ")") == []
    expected = db.execute("SELECT count(*) FROM schools WHERE school_level = 'primary' AND students >= 300 "
                          "AND updated_at > '2020-01-01'").fetchone()[0]  # fmt: skip
    assert expected > 0
    assert len(names("school_level = 'primary' AND students >= 300 AND updated_at > '2020-01-01'")) == expected
    # A report's description is personal data: the export has no such column, whatever is asked.
    text = db.execute("SELECT description FROM citizen_reports ORDER BY id LIMIT 1").fetchone()[0]
    export = client.get("/api/layers/citizen_reports/export", params={"format": "csv", "where": "code IS NOT NULL"})
    assert export.status_code == 200 and text not in export.text
    assert "description" not in export.text.splitlines()[0].split(",")


HOSTILE_TEXT = ("'; DROP TABLE schools;--", "' OR '1'='1", "<script>alert('huegis')</script>", "\x00",
                "../../../../etc/passwd", "x" * 5000, "Huế 🌊 \u202e\ufeff")  # fmt: skip
# Each import form field, the word its refusal names it by, and values aimed at it in particular.
IMPORT_FIELDS = {
    "mode": ("mode", ("sideways",)),
    "key": ("key", ("id",)),
    "title": ("title", ()),
    "title_vi": ("title_vi", ()),
    "description": ("description", ()),
    "group": ("group", ("operations", "admin")),
    "crs": ("crs", ("+proj=longlat +nadgrids=@/etc/passwd", "EPSG:999999", "/etc/passwd")),
    "encoding": ("encoding", ("zlib", "undefined", "rot13")),
    "source_layer": ("layer", ()),
    "map": ("map", ("ten=id", "ten=x; DROP TABLE schools", "nothing=name")),
    "source": ("source", ()),
    "licence": ("licence", ()),
    "allow_outside": ("allow_outside", ()),
    "dry_run": ("dry_run", ()),
}


def test_import_fields_refuse_hostile_values(client: httpx.Client, staff_headers, db, truth_geojson: Path,
                                             tmp_path: Path) -> None:  # fmt: skip
    """Every form field of the import, and the layer id: a 4xx naming the field or a harmless dry run; never a 5xx."""
    admin = staff_headers("gis_admin")
    schools = db.execute("SELECT count(*) FROM schools").fetchone()
    failures, refused = [], 0
    for field, (word, extras) in IMPORT_FIELDS.items():
        for value in (*HOSTILE_TEXT, *extras):
            response = _post(client, "probe_layer", truth_geojson, admin, **{"dry_run": "true", field: value})
            if response.status_code >= 500 or (response.status_code >= 400 and word not in response.text):
                failures.append(f"{field}={value[:40]!r}: {response.status_code} {response.text[:200]}")
            refused += response.status_code >= 400
    table = tmp_path / "bang.csv"
    table.write_text("ten,kinh_do,vi_do\nChợ Đông Ba,107.588,16.4735\n")
    for field in ("x", "y"):
        for value in HOSTILE_TEXT:
            response = _post(client, "probe_layer", table, admin, dry_run="true", **{field: value})
            if response.status_code != 400 or f"--{field}" not in response.text:
                failures.append(f"{field}={value[:40]!r}: {response.status_code} {response.text[:200]}")
    for layer_id in ("'; DROP TABLE schools;--", "pg_class", "Schools", "x" * 64, "citizen_reports", "kpi_units"):
        response = _post(client, quote(layer_id, safe=""), truth_geojson, admin, dry_run="true", mode="append")
        if not 400 <= response.status_code < 500:
            failures.append(f"layer {layer_id[:40]!r}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    assert refused > 60
    assert nothing_written(db, "probe_layer") and db.execute("SELECT count(*) FROM schools").fetchone() == schools
    # Text that looks like SQL is stored as text.
    title = "Điểm '; DROP TABLE schools;--"
    response = _post(client, "probe_layer", truth_geojson, admin, title=title, source="sổ '); --")
    assert response.status_code == 201, response.text
    try:
        row = db.execute("SELECT title, source FROM imported_layers WHERE id = 'probe_layer'").fetchone()
        assert row == (title, "sổ '); --")
        assert client.get("/ogc/collections/probe_layer", params={"f": "json"}).json()["title"] == title
    finally:
        assert client.delete("/api/layers/probe_layer", headers=admin).status_code == 204


# --- round trip ----------------------------------------------------------------------------


def _comparable(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "as_integer_ratio") and not isinstance(value, int | bool):
        return float(value)
    return value


def _same(a: Any, b: Any) -> bool:
    a, b = _comparable(a), _comparable(b)
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _vertices_within(a: BaseGeometry, b: BaseGeometry, metres: float) -> bool:
    """Every vertex of each geometry lies within ``metres`` of the other's linework, as GEOS's discrete
    Hausdorff distance measures (a polygon's rings, not its area: a spike inward is far)."""
    for one, other in ((a, b), (b, a)):
        lines = other.boundary if other.geom_type in ("Polygon", "MultiPolygon") else other
        shapely.prepare(lines)
        if not shapely.dwithin(lines, shapely.points(shapely.get_coordinates(one)), metres).all():
            return False
    return True


@pytest.fixture(scope="module")
def derived_filled(loaded: Settings) -> Settings:
    """The derived layers filled as `huegis setup` fills them (KPIs, a first small hot-spot run), so every
    registry layer has rows to go round."""
    from geo.analytics.hotspot_run import RunParams, refresh_hotspots
    from geo.analytics.kpis import refresh_kpi_unit_month

    with psycopg.connect(loaded.conninfo(), autocommit=True) as conn:
        if conn.execute("SELECT count(*) FROM kpi_unit_month").fetchone() == (0,):
            refresh_kpi_unit_month(conn)

    params = RunParams(period="month", cell_m=1500, origins=4, window=6, permutations=99)
    asyncio.run(
        refresh_hotspots(loaded.conninfo(), params=params, actor=Actor("test:setup", "cli"))
    )  # none if a run exists
    return loaded


@pytest.mark.slow
@pytest.mark.parametrize("spec", LAYERS, ids=[spec.id for spec in LAYERS])
def test_round_trip_through_a_vn2000_shapefile(derived_filled: Settings, db, tmp_path: Path, spec) -> None:
    """Export in EPSG:9214, import into a new layer: same count, attributes, geometry within 0.5 m."""
    loaded = derived_filled
    new_id = f"rt_{spec.id}"[:63]

    async def read() -> gpd.GeoDataFrame:
        async with await AsyncConnection.connect(loaded.conninfo(), autocommit=True) as conn:
            return await read_layer(conn, spec)

    original = asyncio.run(read())
    assert not original.empty, f"{spec.id} has no rows in the test database"
    archive = tmp_path / f"{spec.id}.zip"
    write_file(original, archive, fmt="shp", crs=target_crs("EPSG:9214"), layer_name=spec.id)
    try:
        report = run_import(loaded, archive, layer_id=new_id, allow_outside=True)
        assert report.rows_rejected == 0, report.rejected[:5]
        assert report.rows_imported == len(original)
        # Attributes, by position (a Shapefile cuts names to 10 characters).
        kept = [c for c in original.columns if c not in ("geometry", "synthetic", "updated_at", "source")]
        mapped = [c.target for c in report.columns]
        assert len(mapped) == len(kept), (mapped, kept)
        names = ", ".join(f'"{name}"' for name in mapped)
        rows = db.execute(f'SELECT {names}, source FROM "{new_id}" ORDER BY id').fetchall()
        # A row's own source comes back; a layer without one gets the file's name.
        sources = original["source"] if "source" in original.columns else [archive.name] * len(original)
        for (_, before), source, after in zip(original.iterrows(), sources, rows, strict=True):
            for column, value in zip(kept, after, strict=False):
                assert _same(before[column], value), (column, before[column], value)
            assert after[-1] == source
        # Geometry, feature by feature, in metres (UTM 48N): every vertex of each within 0.5 m of the other
        # (the discrete Hausdorff distance, tested through prepared geometries' indexed distance: the plain
        # one compares every vertex with every segment, minutes for Huế's detailed ward boundaries). Where a
        # pair fails, the shapes themselves are compared (each within 0.5 m of the other): a hole a
        # centimetre wide whose two close vertices became one in the projection is repaired away on import,
        # and its far vertex is then far from any vertex though inside the shape.
        order = ", ".join(f'"{c.name}"' for c in spec.table.primary_key.columns)
        pairs = db.execute(
            f"""WITH a AS (SELECT row_number() OVER (ORDER BY {order}) AS n, geom FROM "{spec.table_name}"),
                     b AS (SELECT row_number() OVER (ORDER BY id) AS n, geom FROM "{new_id}")
                SELECT ST_AsBinary(ST_Transform(a.geom, 32648)), ST_AsBinary(ST_Transform(b.geom, 32648))
                FROM a JOIN b USING (n) ORDER BY n"""
        ).fetchall()
        assert len(pairs) == len(original)
        far = [(ga, gb) for ga, gb in map(shapely.from_wkb, pairs) if not _vertices_within(ga, gb, 0.5)]
        within = all(shapely.covers(ga.buffer(0.5), gb) and shapely.covers(gb.buffer(0.5), ga) for ga, gb in far)
        repaired = len(report.repaired)
        print(f"round trip {spec.id}: {len(original)} features; {repaired} repaired on import, "
              f"{len(far)} compared as shapes: within 0.5 m {within}")  # fmt: skip
        assert within and len(far) <= repaired
    finally:
        drop(loaded, new_id)


# --- QGIS --------------------------------------------------------------------------------------

QGIS_CHECK = """
import os
import sys
from qgis.core import QgsApplication, QgsProject
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
assert project.read(sys.argv[1]), "QGIS cannot read the project"
for layer in list(project.mapLayers().values()):
    print(layer.id(), layer.isValid(), layer.providerType())
sys.stdout.flush()
os._exit(0)  # QGIS may crash tearing down its providers; the answer is already out
"""


def test_qgis_project_opens_with_every_layer_valid(client: httpx.Client, tmp_path: Path) -> None:
    assert Path(QGIS_PYTHON).exists()
    response = client.get("/downloads/huegis.qgz")
    assert response.status_code == 200
    project = tmp_path / "huegis.qgz"
    project.write_bytes(response.content)
    qgs = zipfile.ZipFile(project).read("huegis.qgs").decode()
    assert "pageSize='1000'" in qgs and "Chuyên đề / Thematic" in qgs
    # The system's Python and QGIS, with none of the test run's environment (its GDAL/PROJ, the venv).
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
           "XDG_RUNTIME_DIR": str(tmp_path)}  # fmt: skip
    result = subprocess.run([QGIS_PYTHON, "-c", QGIS_CHECK, str(project)], env=env, capture_output=True, text=True,
                            timeout=300, check=False)  # fmt: skip
    # No skip without PyQGIS: `make install` (as root, as CI runs) installs python3-qgis and qgis-providers.
    assert result.returncode == 0, f"PyQGIS (Debian's python3-qgis, qgis-providers) failed:\n{result.stderr[-2000:]}"
    lines = [line.split(" ") for line in result.stdout.splitlines() if line.strip()]
    layers = {line[0]: line for line in lines}
    assert len(layers) >= len(LAYERS)
    assert all(line[1] == "True" for line in layers.values()), [line for line in layers.values() if line[1] != "True"]
    assert layers["land_parcels_tiles"][2] == "vectortile" and layers["schools_features"][2] == "OAPIF"
