"""Reading a city's GIS files: Shapefile (also zipped), GeoPackage, GeoJSON, KML/KMZ, CSV and XLSX.

GDAL (through pyogrio) reads every format; this module decides what GDAL cannot guess safely:
which layer of a GeoPackage, which columns of a table hold the coordinates, which text encoding
an old DBF is in (UTF-8, CP1258, or the legacy TCVN3/VNI fonts), which coordinate reference
system the numbers are in, and the transformation to WGS 84 (EPSG:4326).

VN-2000 (EPSG:4756 and its TM-3/UTM projections) differs from WGS 84 by a 7-parameter Helmert
shift: read without it, Huế lands ~225 m off. Transformations come from PROJ's database through
``TransformerGroup(allow_ballpark=False)``: the best accurate one is used and named in the
report; a CRS for which PROJ knows only a "ballpark" (no datum shift) is refused.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from pyproj.transformer import Transformer, TransformerGroup

from geo.errors import InvalidInput
from geo.registry import CITY_BBOX

WGS84 = CRS.from_epsg(4326)
LATIN1 = "ISO-8859-1"  # one character per byte: reads any code page's bytes unchanged
# VN-2000 projections: the TM-3 zones (3° wide, k = 0.9999) and UTM 48N/49N. Huế's own zone first.
HUE_ZONE = 9214  # VN-2000 / TM-3 107-00, Thừa Thiên Huế's central meridian (Circular 973/2001/TT-TCĐC)
VN2000_ZONES = (HUE_ZONE, *range(9205, 9214), *range(9215, 9219), 5896, 5897, 5898, 5899, 3405, 3406)
# Metres east/north that VN-2000 TM-3 or UTM coordinates in Viet Nam take (false easting 500 km).
TM3_EASTING = (150_000.0, 850_000.0)
TM3_NORTHING = (900_000.0, 2_650_000.0)
# How a CRS may be named: AUTHORITY:CODE, or the OGC URN and URI forms of one.
CRS_CODE = re.compile(
    r"[A-Za-z][A-Za-z0-9_]{0,19}:\w{1,12}|urn:ogc:def:crs:[A-Za-z0-9_]{1,20}:[0-9.]{0,10}:\w{1,12}"
    r"|https?://www\.opengis\.net/def/crs/[A-Za-z0-9_]{1,20}/[0-9.]{1,10}/\w{1,12}"
)
ENCODING_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}")
TABLE_SUFFIXES = (".csv", ".xlsx", ".xls", ".ods")
X_NAMES = ("lon", "long", "lng", "longitude", "kinh_do", "kinhdo", "x", "easting", "toa_do_x", "toadox")
Y_NAMES = ("lat", "latitude", "vi_do", "vido", "y", "northing", "toa_do_y", "toadoy")
# Bytes the legacy Vietnamese font encodings use for marked letters, as cp1252 decodes them.
# The legacy Vietnamese font encodings, as cp1252 decodes them. TCVN3 (ABC) has one byte per
# marked vowel, mostly after a consonant; VNI writes an ASCII vowel, then a byte for its marks.
TCVN3_LETTERS = re.compile("[b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z][\xa8-\xae\xb5-\xbe\xc6-\xd1\xd5-\xfe]")
VNI_LETTERS = re.compile(
    "[aeiouyAEIOUY\xf4\xf6\xd4\xd6][\xe0-\xe5\xe8-\xeb\xef\xf5\xf8-\xfc\xc0-\xc5\xc8-\xcb\xcf\xd5\xd8-\xdc]"
)


@dataclass(frozen=True)
class Encoding:
    """The text encoding a file's attributes are read with, and how it was decided."""

    name: str
    how: str


@dataclass(frozen=True)
class Transformation:
    """How coordinates reach EPSG:4326: PROJ's operation, its accuracy in metres (None: unknown)."""

    name: str
    accuracy_m: float | None
    transformer: Transformer | None = None  # None: the coordinates are already WGS 84 lon/lat

    def apply(self, geoms: np.ndarray) -> np.ndarray:
        """``geoms`` (shapely array) in EPSG:4326, x = longitude."""
        if self.transformer is None:
            return geoms
        transformer = self.transformer

        def move(coords: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=True)
            return np.column_stack([x, y])

        return shapely.transform(geoms, move)


@dataclass
class SourceFile:
    """A city file read into a GeoDataFrame in EPSG:4326, and what was decided while reading it."""

    frame: gpd.GeoDataFrame
    file_name: str
    driver: str
    source_layer: str | None
    encoding: Encoding | None
    crs_name: str
    crs_from: str  # "file", "--crs" or "assumed"
    transformation: Transformation
    warnings: list[str] = field(default_factory=list)
    # GDAL's type of each column (OFTInteger, OFTReal, OFTDate...) and subtype (OFSTBoolean...).
    field_types: dict[str, str] = field(default_factory=dict)
    field_subtypes: dict[str, str] = field(default_factory=dict)


def read_city_file(
    path: Path,
    *,
    file_name: str | None = None,
    source_layer: str | None = None,
    crs: str | None = None,
    x: str | None = None,
    y: str | None = None,
    encoding: str | None = None,
) -> SourceFile:
    """Read one city file (``path``; ``file_name`` is how the user calls it) into EPSG:4326.

    Raises InvalidInput naming the problem: an unreadable or empty file, a zip without a
    shapefile, a GeoPackage with several layers and none chosen, coordinates without a CRS,
    a CRS without an accurate transformation to WGS 84, a legacy font encoding.
    """
    file_name = file_name or path.name
    warnings: list[str] = []
    dataset = _dataset(path, file_name)
    layers = _layers(dataset, file_name)
    layer = _choose_layer(layers, source_layer, file_name)
    info = _info(dataset, layer, file_name)
    chosen = _encoding(dataset, layer, info, encoding, file_name)
    is_table = path.suffix.lower() in TABLE_SUFFIXES or info.get("geometry_type") in (None, "Unknown")
    frame = _read(dataset, layer, chosen, is_table=is_table, file_name=file_name)
    if frame.empty:
        raise InvalidInput(f"{file_name}: the file holds no rows")
    if is_table:
        frame = _points_from_columns(frame, x, y, file_name)
        file_crs = None
    else:
        file_crs = frame.crs
        if x or y:
            warnings.append("--x/--y ignored: the file has its own geometry (they name a table's coordinate columns)")
    source_crs, crs_from = _source_crs(frame, file_crs, crs, file_name, is_table=is_table, warnings=warnings)
    transformation = transformation_to_wgs84(source_crs)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if shapely.has_z(geoms[present]).any():
        warnings.append("heights (Z) dropped: layers are 2D")
        geoms = shapely.force_2d(geoms)
    moved = np.array(geoms, dtype=object)
    moved[present] = transformation.apply(geoms[present])
    out = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name), geometry=moved, crs=WGS84)
    # Field names as read (decoded for legacy code pages), in GDAL's order.
    names = [c for c in frame.columns if c != frame.geometry.name]
    ogr_types = list(info.get("ogr_types") or [])
    ogr_subtypes = list(info.get("ogr_subtypes") or [])
    return SourceFile(
        frame=out,
        file_name=file_name,
        driver=str(info.get("driver")),
        source_layer=layer,
        encoding=chosen,
        crs_name=_describe(source_crs),
        crs_from=crs_from,
        transformation=transformation,
        warnings=warnings,
        field_types=dict(zip(names, ogr_types, strict=False)) if len(ogr_types) == len(names) else {},
        field_subtypes=dict(zip(names, ogr_subtypes, strict=False)) if len(ogr_subtypes) == len(names) else {},
    )


# --- which dataset and layer ------------------------------------------------------------------


def _dataset(path: Path, file_name: str) -> str:
    """The GDAL path to open: a zip's shapefile through /vsizip/, anything else as it is."""
    suffix = Path(file_name).suffix.lower() or path.suffix.lower()
    if suffix != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/") and "__MACOSX" not in n]
    except zipfile.BadZipFile:
        raise InvalidInput(f"{file_name}: not a readable zip archive") from None
    shapefiles = [n for n in names if n.lower().endswith(".shp")]
    if not shapefiles:
        listed = ", ".join(names[:10]) or "nothing"
        raise InvalidInput(f"{file_name}: the zip holds no shapefile (.shp); it holds {listed}")
    if len(shapefiles) > 1:
        raise InvalidInput(
            f"{file_name}: the zip holds {len(shapefiles)} shapefiles ({', '.join(shapefiles)}); zip one layer per file"
        )
    stem = shapefiles[0][:-4]
    missing = [ext for ext in (".shx", ".dbf") if not any(n.lower() == (stem + ext).lower() for n in names)]
    if missing:
        raise InvalidInput(f"{file_name}: {shapefiles[0]} comes without its {' and '.join(missing)} file")
    return f"/vsizip/{path}/{shapefiles[0]}"


def _layers(dataset: str, file_name: str) -> list[str]:
    try:
        return [str(row[0]) for row in pyogrio.list_layers(dataset)]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(f"{file_name}: not a file GDAL can read as vector data ({_gdal_message(exc)})") from None


def _choose_layer(layers: list[str], wanted: str | None, file_name: str) -> str | None:
    if wanted is not None:
        if wanted not in layers:
            raise InvalidInput(f"{file_name}: no layer {wanted!r}; its layers: {', '.join(layers)}")
        return wanted
    if len(layers) > 1:
        raise InvalidInput(
            f"{file_name} holds {len(layers)} layers ({', '.join(layers)}): choose one with --source-layer"
        )
    return layers[0] if layers else None


def _info(dataset: str, layer: str | None, file_name: str) -> dict[str, Any]:
    try:
        return pyogrio.read_info(dataset, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(f"{file_name}: cannot read its layer ({_gdal_message(exc)})") from None


def _read(dataset: str, layer: str | None, encoding: Encoding | None, *, is_table: bool, file_name: str) -> Any:
    """The rows; text in a legacy code page is read byte for byte and decoded here, in NFC."""
    options: dict[str, Any] = {}
    if dataset.lower().endswith(".csv"):
        options = {"AUTODETECT_TYPE": "YES", "EMPTY_STRING_AS_NULL": "YES"}
    legacy = encoding is not None and codecs.lookup(encoding.name).name != "utf-8"
    try:
        frame = pyogrio.read_dataframe(
            dataset,
            layer=layer,
            # GDAL's iconv recoding drops a CP1258 value's last letter (it waits for a combining
            # tone that never comes): read bytes as Latin-1 and let Python's codec decode them.
            encoding=LATIN1 if legacy else (encoding.name if encoding else None),
            read_geometry=not is_table,
            **options,
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
        raise InvalidInput(f"{file_name}: cannot read its rows ({_gdal_message(exc)})") from None
    if legacy:
        assert encoding is not None
        frame = _decode(frame, encoding.name, file_name)
    return frame


def _decode(frame: Any, encoding: str, file_name: str) -> Any:
    """Column names and text values read as Latin-1, decoded from ``encoding`` and composed (NFC)."""

    def decode(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return unicodedata.normalize("NFC", value.encode(LATIN1).decode(encoding))
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{file_name}: text {value[:40]!r} is not {encoding} ({exc.reason}); pass --encoding"
            ) from None

    for column in frame.columns:
        if column != getattr(frame, "_geometry_column_name", None) and _is_text(frame[column]):
            frame[column] = frame[column].astype(object).map(decode)
    return frame.rename(columns={c: decode(c) for c in frame.columns if c != "geometry"})


def _gdal_message(exc: Exception) -> str:
    return str(exc).split("\n")[0][:200]


# --- text encoding --------------------------------------------------------------------------


def _encoding(
    dataset: str, layer: str | None, info: dict[str, Any], given: str | None, file_name: str
) -> Encoding | None:
    """The encoding of a DBF's text (a shapefile's .cpg, else detected); None for formats that are UTF-8."""
    if given:
        return Encoding(_text_encoding(given), "--encoding")
    if info.get("driver") != "ESRI Shapefile":
        return None  # GeoPackage, GeoJSON, KML are UTF-8 by definition; CSV and XLSX: GDAL reads UTF-8
    declared = str(info.get("encoding") or "")
    # GDAL reports ISO-8859-1 when neither a .cpg nor the DBF's language id says anything.
    if declared and declared.upper() != "ISO-8859-1":
        return Encoding(declared, "declared by the file (.cpg or the DBF language id)")
    return Encoding(detect_encoding(_raw_texts(dataset, layer), file_name), "detected from the text")


def _text_encoding(name: str) -> str:
    """``name`` if it is a text encoding Python decodes (not a bytes transform such as zlib or base64)."""
    try:
        codec = codecs.lookup(name) if ENCODING_NAME.fullmatch(name) else None
        if codec is not None and getattr(codec, "_is_text_encoding", True):
            b"ab".decode(codec.name)
            return name
    except (LookupError, ValueError):  # UnicodeError is a ValueError: e.g. the 'undefined' codec
        pass
    raise InvalidInput(f"--encoding {name[:40]!r} is not a text encoding (e.g. utf-8, cp1258)")


def _raw_texts(dataset: str, layer: str | None) -> list[bytes]:
    """The DBF's text values as stored: read as Latin-1, one character per byte, then back to bytes."""
    frame = pyogrio.read_dataframe(dataset, layer=layer, encoding=LATIN1, read_geometry=False, max_features=5000)
    texts: list[bytes] = []
    for column in frame.columns:
        if _is_text(frame[column]):
            texts += [value.encode(LATIN1) for value in frame[column].dropna() if isinstance(value, str)]
    return texts


def detect_encoding(texts: list[bytes], file_name: str = "the file") -> str:
    """'utf-8' or 'cp1258' for a DBF's text bytes; InvalidInput for the legacy TCVN3/VNI font encodings.

    CP1258 text decodes (once its combining tones are composed) to Vietnamese letters only; text
    in the TCVN3 or VNI fonts' encodings decodes to symbols (µ ¸ ­ ¨ ø ...) in between them.
    """
    sample = b"\n".join(texts)
    if not any(byte > 0x7F for byte in sample):
        return "utf-8"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    decoded = unicodedata.normalize("NFC", sample.decode("cp1258", errors="replace"))
    marked = [c for c in decoded if ord(c) > 0x7F]
    if sum(map(_vietnamese_letter, marked)) >= 0.95 * len(marked):
        return "cp1258"
    legacy = sample.decode("cp1252", errors="replace")
    name = "VNI" if len(VNI_LETTERS.findall(legacy)) > len(TCVN3_LETTERS.findall(legacy)) else "TCVN3 (ABC)"
    example = next((t.decode("cp1252", errors="replace") for t in texts if any(b > 0x7F for b in t)), "")
    raise InvalidInput(
        f"{file_name}: the text looks like the legacy Vietnamese {name} font encoding (e.g. {example[:40]!r}), which "
        "has no standard decoder: convert the DBF to Unicode (e.g. UniKey's converter, then save as UTF-8 with a "
        ".cpg) or pass --encoding if it is something else"
    )


def _vietnamese_letter(char: str) -> bool:
    """A Latin letter with Vietnamese marks: its base (without marks) is a-z, or it is đ/Đ."""
    return char in "đĐ" or (char.isalpha() and unicodedata.normalize("NFD", char)[0].isascii())


def _is_text(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


# --- coordinates ------------------------------------------------------------------------------


def _points_from_columns(frame: Any, x: str | None, y: str | None, file_name: str) -> gpd.GeoDataFrame:
    """Points from a table's x/y (or lon/lat) columns, named or found by their usual names."""
    columns = {str(c).strip().lower(): c for c in frame.columns}
    x_col = _column(columns, x, X_NAMES, "--x", file_name)
    y_col = _column(columns, y, Y_NAMES, "--y", file_name)
    xs = pd.to_numeric(frame[x_col], errors="coerce")
    ys = pd.to_numeric(frame[y_col], errors="coerce")
    geoms = shapely.points(xs.to_numpy(dtype=float), ys.to_numpy(dtype=float))
    geoms[(xs.isna() | ys.isna()).to_numpy()] = None
    return gpd.GeoDataFrame(frame.drop(columns=[x_col, y_col]), geometry=geoms)


def _column(columns: dict[str, Any], given: str | None, usual: tuple[str, ...], option: str, file_name: str) -> Any:
    if given is not None:
        if given.strip().lower() not in columns:
            raise InvalidInput(
                f"{file_name}: no column {given!r} ({option}); columns: {', '.join(map(str, columns.values()))}"
            )
        return columns[given.strip().lower()]
    for name in usual:
        if name in columns:
            return columns[name]
    raise InvalidInput(
        f"{file_name}: a table needs coordinate columns: name them with --x and --y "
        f"(columns: {', '.join(map(str, columns.values()))})"
    )


def _source_crs(
    frame: gpd.GeoDataFrame, file_crs: CRS | None, given: str | None, file_name: str, *, is_table: bool,
    warnings: list[str],
) -> tuple[CRS, str]:  # fmt: skip
    """The CRS of the coordinates: --crs, else the file's, else WGS 84 if they are degrees; refused otherwise."""
    if given:
        crs = parse_crs(given, "--crs")
        if file_crs is not None and not CRS(file_crs).equals(crs, ignore_axis_order=True):
            warnings.append(f"--crs {given} overrides the file's own CRS ({_describe(CRS(file_crs))})")
        return crs, "--crs"
    if file_crs is not None:
        # A .prj GDAL identifies with certainty (an ESRI one has no EPSG code): use the EPSG
        # definition, so PROJ's operations (and the report) name the datum shift properly.
        code = CRS(file_crs).to_epsg()
        return (CRS.from_epsg(code) if code else CRS(file_crs)), "file"
    bounds = _bounds(frame)
    if bounds is None:
        return WGS84, "assumed"  # no coordinates at all: every row is rejected later
    minx, miny, maxx, maxy = bounds
    if minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90:
        kind = "the table's" if is_table else "the file has no CRS, so its"
        warnings.append(
            f"{kind} coordinates are read as WGS 84 longitude/latitude (EPSG:4326); if they are VN-2000 degrees, "
            "pass --crs EPSG:4756 (about 225 m apart in Huế)"
        )
        return WGS84, "assumed"
    seen = f"x {minx:,.0f}..{maxx:,.0f}, y {miny:,.0f}..{maxy:,.0f}"
    if TM3_EASTING[0] <= minx and maxx <= TM3_EASTING[1] and TM3_NORTHING[0] <= miny and maxy <= TM3_NORTHING[1]:
        zones = likely_zones(bounds)
        if zones:
            named = ", ".join(f"EPSG:{code} ({CRS.from_epsg(code).name})" for code in zones)
            raise InvalidInput(
                f"{file_name} has no CRS (.prj) and its coordinates ({seen}) are VN-2000 metres, not degrees: "
                f"pass --crs EPSG:{zones[0]}; zones that put them in Huế: {named}"
            )
        raise InvalidInput(
            f"{file_name} has no CRS (.prj) and its coordinates ({seen}) look like VN-2000 TM-3 metres, but no "
            "VN-2000 zone puts them in Huế: pass --crs with the file's EPSG code"
        )
    raise InvalidInput(f"{file_name} has no CRS (.prj) and its coordinates ({seen}) are not degrees: pass --crs")


def parse_crs(text: str, option: str) -> CRS:
    """A CRS named by its code (``EPSG:9214``, or an OGC URN/URI of one); InvalidInput naming ``option`` otherwise.

    Codes only: a PROJ string or WKT could name grid files to open on the server.
    """
    if len(text) > 120 or not CRS_CODE.fullmatch(text.strip()):
        raise InvalidInput(f"{option} {text[:60]!r}: name the CRS by its code, e.g. EPSG:9214 (VN-2000 / TM-3 107-00)")
    try:
        return CRS.from_user_input(text.strip())
    except CRSError:
        raise InvalidInput(f"{option} {text!r} is not a CRS PROJ knows (e.g. EPSG:9214)") from None


def _bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    return float(minx), float(miny), float(maxx), float(maxy)


def likely_zones(bounds: tuple[float, float, float, float]) -> list[int]:
    """The VN-2000 projections (EPSG codes) under which ``bounds`` (metres) falls inside Huế, Huế's first."""
    minx, miny, maxx, maxy = bounds
    west, south, east, north = CITY_BBOX
    margin = 0.05
    found = []
    for code in VN2000_ZONES:
        transformation = transformation_to_wgs84(CRS.from_epsg(code))
        assert transformation.transformer is not None
        lons, lats = transformation.transformer.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
        if all(west - margin <= lon <= east + margin for lon in lons) and all(
            south - margin <= lat <= north + margin for lat in lats
        ):
            found.append(code)
    return found


def transformation_to_wgs84(crs: CRS) -> Transformation:
    """The most accurate transformation PROJ knows from ``crs`` to EPSG:4326; refused if only a ballpark exists."""
    if crs.equals(WGS84, ignore_axis_order=True):
        return Transformation("none: the coordinates are WGS 84 longitude/latitude", 0.0)
    group = TransformerGroup(crs, WGS84, always_xy=True, allow_ballpark=False)
    usable = [t for t in group.transformers if not t.is_network_enabled or t.accuracy is not None]
    if not usable:
        raise InvalidInput(
            f"no accurate transformation from {_describe(crs)} (datum {crs.datum.name if crs.datum else '?'}) "
            "to WGS 84 is known (only a 'ballpark' one without the datum shift, possibly hundreds of metres off): "
            "pass --crs with the file's EPSG code, e.g. EPSG:9214 for VN-2000 / TM-3 107-00"
        )
    best = usable[0]
    accuracy = best.accuracy if best.accuracy is not None and best.accuracy >= 0 else None
    if accuracy is None and crs.datum is not None and WGS84.datum is not None and crs.datum.name == WGS84.datum.name:
        accuracy = 0.0  # a projection of WGS 84 itself: an exact conversion
    return Transformation(best.description, accuracy, best)


def _describe(crs: CRS) -> str:
    code = crs.to_epsg(min_confidence=70)
    return f"{crs.name} (EPSG:{code})" if code else f"{crs.name} (no EPSG code)"
