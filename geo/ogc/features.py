"""OGC API Features pages built by PostgreSQL: the fast path in front of pygeoapi's provider.

pygeoapi's SQL provider turns every row into SQLAlchemy objects, shapely geometries and Python
dicts, then serialises them again: ~35 ms of Python per 1,000 features against ~3 ms in
PostgreSQL. Here PostgreSQL writes each Feature as GeoJSON text and joins them, and the bytes go
to the client untouched. Parameters keep pygeoapi's meaning (bbox, datetime, limit, offset,
``<field>=<value>``, properties, skipGeometry, sortby); what this module does not cover raises
:class:`Unsupported` and the web layer hands the request to pygeoapi.

``numberMatched`` is exact or absent (OGC API Features allows leaving it out, never an
approximation): matches are counted when the planner expects at most ``count_max`` of them
(``HUEGIS_EXACT_COUNT_MAX``), or when the client asks. Counts are cached per layer and filter
under the layer's change tag (``layer_versions``, bumped by a statement trigger in the writer's
transaction), and the tag is read in the same statement, so the same snapshot, as the page: a
cached count is used only when the layer has not changed since it was taken.

Pages in the default order (the primary key) continue by key: ``after=<key>`` of the last
feature read is a range condition on the key's index, so a deep page costs what the first does,
where ``offset`` reads and drops every row before it. Columns come from the registry;
identifiers are quoted by psycopg.sql and values bound.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

from cachetools import LRUCache
from dateutil.parser import isoparse
from psycopg import AsyncConnection, sql
from psycopg.adapt import Buffer, Loader

from geo.db import load_sql
from geo.errors import InvalidInput
from geo.ogc.config import DEFAULT_ITEMS, MAX_ITEMS
from geo.registry import LayerSpec

GEOM = "geom"
# 7 decimals of a degree: ~1 cm, below the accuracy of any layer here, and a third shorter.
GEOJSON_DECIMALS = sql.Literal(7)
CRS84 = frozenset(
    {
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/OGC/0/CRS84",
        "https://www.opengis.net/def/crs/OGC/0/CRS84",
    }
)
# pygeoapi's reserved query parameters: any other name is a property filter or ignored.
RESERVED = frozenset(
    {
        "bbox", "bbox-crs", "crs", "f", "lang", "limit", "offset", "resulttype", "datetime",
        "sortby", "properties", "skipGeometry", "q", "filter", "filter-lang", "filter-crs", "after",
    }
)  # fmt: skip
# Parameters only pygeoapi implements (CQL, full text, languages other than the default).
PYGEOAPI_ONLY = frozenset({"q", "filter", "filter-lang", "filter-crs", "lang"})
FORMATS = frozenset({"json", "geojson"})
TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
FALSE = frozenset({"false", "f", "no", "n", "off", "0"})
INT64 = 2**63
COUNT_CACHE_ENTRIES = 10_000

KEYSET = sql.SQL("{} > %(after)s")
BBOX = sql.SQL("ST_Intersects({}, ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326))")


class RawText(Loader):
    """Text as the UTF-8 bytes PostgreSQL sent: a page goes out without a decode and re-encode."""

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


class Unsupported(Exception):
    """A request pygeoapi answers and this module does not: hand it to pygeoapi as it is."""


class InvalidParameter(InvalidInput):
    """A query parameter has a value pygeoapi would also refuse (or fail on): a 400."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


@dataclass(frozen=True)
class TimeFilter:
    """``datetime=``: an instant (begin is end) or an interval with open (None) ends."""

    begin: date | None
    end: date | None
    instant: bool


@dataclass(frozen=True)
class QueryShape:
    """The parts of a request that change the SQL text of its page."""

    properties: tuple[str, ...]
    skip_geometry: bool
    sortby: tuple[tuple[str, bool], ...]
    bbox: bool
    time: tuple[bool, bool, bool] | None  # instant, has begin, has end
    filters: tuple[str, ...]
    after: bool


@dataclass(frozen=True)
class ItemsQuery:
    """A validated ``/items`` request for one layer."""

    layer: LayerSpec
    limit: int = DEFAULT_ITEMS
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    time: TimeFilter | None = None
    filters: tuple[tuple[str, Any], ...] = ()
    properties: tuple[str, ...] = ()
    skip_geometry: bool = False
    sortby: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    after: Any = None  # the primary key of the last feature of the page before (keyset paging)

    @property
    def shape(self) -> QueryShape:
        """What the statement's text depends on (not the values)."""
        time = (
            None if self.time is None else (self.time.instant, self.time.begin is not None, self.time.end is not None)
        )
        filters = tuple(name for name, _ in self.filters)
        shape = (self.properties, self.skip_geometry, self.sortby, self.bbox is not None, time, filters)
        return QueryShape(*shape, after=self.after is not None)

    @property
    def count_key(self) -> tuple:
        """What ``numberMatched`` depends on (not the page: ``offset``, ``after``)."""
        return (self.layer.id, self.bbox, self.time, self.filters)


@dataclass(frozen=True)
class Page:
    """One page: the Feature texts joined by commas (no brackets), the counts, the last key read."""

    features: bytes
    returned: int
    matched: int | None  # None: not counted (more than count_max expected)
    last: str | None  # the greatest primary key on the page, as text (None: an empty page)


@dataclass(frozen=True)
class Item:
    """One Feature's GeoJSON text and the ids before and after it."""

    feature: bytes
    prev: Any
    next: Any


# (layer, filter) → (the layer's change tag when counted, the count); an LRU held by the app.
CountCache = MutableMapping[tuple, tuple[str, int]]


class NoCounts(dict):
    """A count cache that keeps nothing: every page counts its matches (as tipg and pygeoapi do)."""

    def __setitem__(self, key: tuple, value: tuple[str, int]) -> None:
        pass


def count_cache(max_entries: int = COUNT_CACHE_ENTRIES) -> CountCache:
    """An empty LRU of exact counts, each valid while its layer's change tag is the same (0: no cache)."""
    return LRUCache(maxsize=max_entries) if max_entries > 0 else NoCounts()


# --- parameters ---------------------------------------------------------------------------------


def unknown_parameters(layer: LayerSpec, params: Mapping[str, str]) -> list[str]:
    """Query parameters of ``/items`` that are neither pygeoapi's nor a published property (a 400)."""
    queryable = {*layer.fields, layer.id_field}
    return sorted(name for name in params if name not in RESERVED and name not in queryable)


def parse_items_query(layer: LayerSpec, params: Mapping[str, str]) -> ItemsQuery:
    """Validate ``/items`` query parameters as pygeoapi reads them.

    Raises InvalidParameter (400) for a bad value and Unsupported for what only pygeoapi does.
    """
    if PYGEOAPI_ONLY & params.keys():
        raise Unsupported("CQL, q or lang")
    if params.get("f", "json").strip().lower() not in FORMATS:
        raise Unsupported("format")
    if params.get("resulttype") == "hits":
        raise Unsupported("resulttype=hits")
    if "crs" in params and params["crs"] not in CRS84:
        raise Unsupported("crs")
    bbox = _bbox(params.get("bbox"))
    if "bbox-crs" in params and (bbox is None or params["bbox-crs"] not in CRS84):
        raise Unsupported("bbox-crs")
    offset, sortby = _offset(params.get("offset")), _sortby(layer, params.get("sortby"))
    return ItemsQuery(
        layer=layer,
        limit=_limit(params.get("limit")),
        offset=offset,
        bbox=bbox,
        time=_time(layer, params.get("datetime")),
        filters=_filters(layer, params),
        properties=_properties(layer, params.get("properties")),
        skip_geometry=params.get("skipGeometry", "").strip().lower() in TRUE,
        sortby=sortby,
        after=_after(layer, params.get("after"), offset=offset, sortby=bool(sortby)),
    )


def check_shared_parameters(layer: LayerSpec, params: Mapping[str, str]) -> None:
    """Check what every engine reads alike (limit, offset, sortby) before a request goes to pygeoapi,
    which answers some bad values with a 500 (an empty ``sortby`` in HTML, say) or ignores them."""
    _limit(params.get("limit"))
    _offset(params.get("offset"))
    _sortby(layer, params.get("sortby"))


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_ITEMS
    try:
        limit = int(text)
    except ValueError:
        raise InvalidParameter("limit", f"{text!r} is not an integer") from None
    if limit <= 0:
        raise InvalidParameter("limit", "must be strictly positive")
    return min(limit, MAX_ITEMS)  # pygeoapi's on_exceed: throttle


def _offset(text: str | None) -> int:
    if text is None:
        return 0
    try:
        offset = int(text)
    except ValueError:
        raise InvalidParameter("offset", f"{text!r} is not an integer") from None
    if offset < 0:
        raise InvalidParameter("offset", "must be positive or zero")
    if offset >= 2**63:  # PostgreSQL's OFFSET is a bigint
        raise InvalidParameter("offset", f"{offset} is too large")
    return offset


def _after(layer: LayerSpec, text: str | None, *, offset: int, sortby: bool) -> Any:
    """The key a page continues after, typed like the primary key (None: from the start)."""
    if text is None:
        return None
    if sortby:
        raise InvalidParameter("after", "pages by key follow the default order: leave out sortby, or page by offset")
    if offset:
        raise InvalidParameter("after", "give after or offset, not both")
    key = primary_key(layer)
    if len(key) != 1:
        raise InvalidParameter("after", f"collection {layer.id!r} pages by offset only")
    return typed_value(column_kinds(layer)[key[0]], text, "after")


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) == 6:
        raise Unsupported("bbox with heights")
    if len(parts) != 4:
        raise InvalidParameter("bbox", "give 4 numbers: minx,miny,maxx,maxy (lon/lat, CRS84)")
    try:
        minx, miny, maxx, maxy = (float(part) for part in parts)
    except ValueError:
        raise InvalidParameter("bbox", f"{text!r}: values must be numbers") from None
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))):
        raise InvalidParameter("bbox", f"{text!r}: values must be finite numbers")
    if miny > maxy:
        raise InvalidParameter("bbox", "miny should be less than maxy")
    if minx > maxx:
        raise Unsupported("bbox across the antimeridian")
    return (minx, miny, maxx, maxy)


def _time(layer: LayerSpec, text: str | None) -> TimeFilter | None:
    if text is None or text.strip() == "../..":
        return None
    if layer.time_field is None:
        raise InvalidParameter("datetime", f"collection {layer.id!r} has no time")
    kind = column_kinds(layer)[layer.time_field]
    parts = text.split("/")
    if len(parts) > 2:
        raise InvalidParameter("datetime", f"{text!r}: give an instant or one interval start/end")
    ends = [_instant(part, kind) for part in parts]
    if len(ends) == 1:
        if ends[0] is None:
            raise InvalidParameter("datetime", f"{text!r} is not an RFC 3339 date-time")
        return TimeFilter(ends[0], ends[0], instant=True)
    return TimeFilter(ends[0], ends[1], instant=False)


def _instant(text: str, kind: type | None) -> date | None:
    """An RFC 3339 time typed like its column; None for an open end ('..' or empty)."""
    text = text.strip()
    if text in ("", ".."):
        return None
    try:
        moment = isoparse(text)
    except (ValueError, OverflowError):
        raise InvalidParameter("datetime", f"{text!r} is not an RFC 3339 date-time") from None
    if kind is date:
        return moment.date()  # PostgreSQL reads a date-time as a date the same way
    # Without an offset pygeoapi's session (UTC) decides: keep that meaning.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _filters(layer: LayerSpec, params: Mapping[str, str]) -> tuple[tuple[str, Any], ...]:
    kinds = column_kinds(layer)
    public = {*layer.fields, layer.id_field}
    filters = []
    for name, text in params.items():
        if name in RESERVED or name not in kinds or name not in public:
            continue  # unknown names were refused before (unknown_parameters); unpublished ones look unknown too
        if kinds[name] is None:
            raise Unsupported(f"filter on {name}")
        filters.append((name, typed_value(kinds[name], text, name)))
    return tuple(sorted(filters, key=lambda f: f[0]))


def _properties(layer: LayerSpec, text: str | None) -> tuple[str, ...]:
    published = tuple(name for name in layer.fields if name != layer.id_field)
    if text is None:
        chosen = published
    else:
        names = text.split(",")
        # Unpublished columns are as unknown as missing ones: a client cannot probe for them.
        known = {*layer.fields, layer.id_field, layer.time_field}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise InvalidParameter("properties", f"unknown properties {', '.join(map(repr, unknown))}")
        chosen = tuple(name for name in published if name in names)
    return chosen


def _sortby(layer: LayerSpec, text: str | None) -> tuple[tuple[str, bool], ...]:
    if text is None:
        return ()
    sortable = {*layer.fields, layer.id_field}
    keys = []
    for part in text.split(","):
        name = part[1:] if part[:1] in ("+", "-") else part
        if not name:
            raise InvalidParameter(
                "sortby", f"{text!r} has an empty sort key; give properties, e.g. sortby=-{layer.id_field}"
            )
        if name not in sortable:
            raise InvalidParameter("sortby", f"{name!r} is not a property of {layer.id!r}")
        keys.append((name, part[:1] == "-"))
    return tuple(keys)


def typed_value(kind: type | None, text: str, parameter: str) -> Any:
    """``text`` as a value of a column of Python type ``kind``; 400 naming ``parameter`` if not."""
    try:
        if kind is bool:
            if text.lower() in TRUE | FALSE:
                return text.lower() in TRUE
            raise ValueError
        if kind is int:
            value = int(text)
            if not -INT64 <= value < INT64:
                raise ValueError
            return value
        if kind in (float, Decimal):
            number = Decimal(text)
            if not number.is_finite():
                raise ValueError
            return number
        if kind is datetime:
            moment = isoparse(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if kind is date:
            return isoparse(text).date()
    except (ValueError, InvalidOperation, OverflowError):
        name = kind.__name__ if kind else "value"
        raise InvalidParameter(parameter, f"{text!r} is not a valid {name}") from None
    return text


@cache
def column_kinds(layer: LayerSpec) -> dict[str, type | None]:
    """Every column of the layer's table (from the model: no reflection) → its Python type."""
    kinds: dict[str, type | None] = {}
    for column in layer.table.columns:
        try:
            kind = column.type.python_type
        except NotImplementedError:
            kind = None
        scalar = (bool, int, float, Decimal, datetime, date, str)
        kinds[str(column.name)] = kind if kind in scalar else None
    return kinds


# --- SQL ----------------------------------------------------------------------------------------


@cache
def _template(name: str) -> sql.SQL:
    """``geo/sql/features/<name>.sql`` without its comment lines, as a psycopg.sql template."""
    text = "\n".join(line for line in load_sql(f"features/{name}").splitlines() if not line.startswith("--"))
    return sql.SQL(text.strip())


def _feature(
    layer: LayerSpec, properties: tuple[str, ...], skip_geometry: bool, key: tuple[str, ...] = ()
) -> dict[str, sql.Composable]:
    """The feature.sql expression and what it reads: the page's columns (and ``key``) and the properties row."""
    geometry: sql.Composable = sql.SQL("coalesce(ST_AsGeoJSON(page.{}, {}), 'null')").format(
        sql.Identifier(GEOM), GEOJSON_DECIMALS
    )
    if skip_geometry:
        geometry = sql.SQL("'null'")
    columns = dict.fromkeys([layer.id_field, *properties, *([] if skip_geometry else [GEOM]), *key])
    return {
        "feature": _template("feature").format(id=sql.Identifier(layer.id_field), geometry=geometry),
        "columns": sql.SQL(", ").join(map(sql.Identifier, columns)),
        "properties": sql.SQL(", ").join(sql.Identifier("page", name) for name in properties),
    }


def _where(layer: LayerSpec, shape: QueryShape) -> sql.Composable:
    """The filter of a page, with placeholders for its values (see ``_where_params``)."""
    clauses: list[sql.Composable] = []
    if shape.bbox:
        clauses.append(BBOX.format(sql.Identifier(GEOM)))
    if shape.time:
        clauses += _time_clauses(layer, *shape.time)
    for i, name in enumerate(shape.filters):
        clauses.append(sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(f"p{i}")))
    return sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("TRUE")


def _where_params(query: ItemsQuery) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if query.bbox:
        params.update(zip(("minx", "miny", "maxx", "maxy"), query.bbox, strict=True))
    if query.time:
        params.update(t_begin=query.time.begin, t_end=query.time.end)
    params.update((f"p{i}", value) for i, (_, value) in enumerate(query.filters))
    return params


def _time_clauses(layer: LayerSpec, instant: bool, has_begin: bool, has_end: bool) -> list[sql.Composable]:
    assert layer.time_field is not None
    start = sql.Identifier(layer.time_field)
    begin, end = sql.Placeholder("t_begin"), sql.Placeholder("t_end")
    if layer.time_end_fields:
        # Rows valid over an interval (ActiveIntervalProvider): active at some moment of it.
        clauses: list[sql.Composable] = []
        if has_end:
            clauses.append(sql.SQL("{} <= {}").format(start, end))
        if has_begin:
            for name in layer.time_end_fields:
                clauses.append(sql.SQL("({0} IS NULL OR {0} > {1})").format(sql.Identifier(name), begin))
        return clauses
    # pygeoapi's stock provider: equal to an instant, within an interval.
    if instant:
        return [sql.SQL("{} = {}").format(start, begin)]
    clauses = []
    if has_begin:
        clauses.append(sql.SQL("{} >= {}").format(start, begin))
    if has_end:
        clauses.append(sql.SQL("{} <= {}").format(start, end))
    return clauses


def _order(layer: LayerSpec, sortby: tuple[tuple[str, bool], ...]) -> sql.Composable:
    keys: list[sql.Composable] = [
        sql.SQL("{} DESC" if desc else "{}").format(sql.Identifier(name)) for name, desc in sortby
    ]
    # Then the primary key: a total order, so pages never overlap. pygeoapi sorts by the id field;
    # the key follows the table's physical order, which makes a dense bbox page 3x cheaper.
    keys += [sql.Identifier(name) for name in primary_key(layer) if (name, False) not in sortby]
    return sql.SQL(", ").join(keys)


@cache
def primary_key(layer: LayerSpec) -> tuple[str, ...]:
    """The table's primary key columns (from the model)."""
    return tuple(str(column.name) for column in layer.table.primary_key.columns)


TAG = sql.SQL(
    "(SELECT version || '.' || extract(epoch FROM changed_at) FROM layer_versions WHERE layer_id = %(layer)s)"
)


def items_statement(query: ItemsQuery, *, known: str | None, count: bool = True) -> tuple[bytes, dict[str, Any]]:
    """The page statement; it counts the matches if ``count`` and ``known`` is not the layer's change tag."""
    params = {**_where_params(query), "layer": query.layer.id, "limit": query.limit, "offset": query.offset}
    params.update(after=query.after, known=known, count=count)
    return _items_sql(query.layer, query.shape), params


@lru_cache(maxsize=1024)
def _items_sql(layer: LayerSpec, shape: QueryShape) -> bytes:
    """The text of a page statement, composed once per shape of request (the values are bound)."""
    table = sql.Identifier(layer.table_name)
    where = _where(layer, shape)
    key = sql.Identifier(primary_key(layer)[0])
    # numberMatched counts the selection, not what is left after the key the page starts from.
    page_where = sql.SQL("{} AND {}").format(where, KEYSET.format(key)) if shape.after else where
    statement = _template("items").format(
        **_feature(layer, shape.properties, shape.skip_geometry, primary_key(layer)),
        table=table,
        where=page_where,
        order=_order(layer, shape.sortby),
        key=key,
        tag=TAG,
        count=_template("count").format(table=table, where=where),
    )
    return statement.as_bytes()


@lru_cache(maxsize=1024)
def _estimate_sql(layer: LayerSpec, shape: QueryShape) -> bytes:
    """The text of the EXPLAIN that estimates how many rows a page's filter matches."""
    statement = _template("estimate").format(table=sql.Identifier(layer.table_name), where=_where(layer, shape))
    return statement.as_bytes()


@cache
def _item_sql(layer: LayerSpec) -> bytes:
    """The text of the one-feature statement of a layer."""
    published = tuple(name for name in layer.fields if name != layer.id_field)
    statement = _template("item").format(
        **_feature(layer, published, skip_geometry=False),
        table=sql.Identifier(layer.table_name),
        id=sql.Identifier(layer.id_field),
    )
    return statement.as_bytes()


# --- queries ------------------------------------------------------------------------------------


async def estimate_matches(conn: AsyncConnection, query: ItemsQuery) -> float:
    """The planner's estimate of the rows a page's filter matches (nothing is read but statistics)."""
    async with conn.cursor() as cur:
        await cur.execute(_estimate_sql(query.layer, query.shape), _where_params(query), prepare=False)
        row = await cur.fetchone()
    assert row is not None
    plan = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return float(plan[0]["Plan"]["Plan Rows"])


async def fetch_page(
    conn: AsyncConnection, query: ItemsQuery, counts: CountCache, *, count_max: float = math.inf, exact: bool = False
) -> Page:
    """One page of features as GeoJSON text; ``numberMatched`` when at most ``count_max`` matches are expected.

    ``exact``: count whatever the estimate. A count above ``count_max`` is not cached: it would be
    redone on the layer's next change, the cost the threshold is there to avoid.
    """
    known = counts.get(query.count_key)  # cached counts are all within count_max when taken
    count = exact or known is not None or await estimate_matches(conn, query) <= count_max
    statement, params = items_statement(query, known=known[0] if known else None, count=count)
    async with conn.cursor() as cur:
        cur.adapters.register_loader("text", RawText)  # the features stay bytes
        # A generic plan of a prepared statement cannot see how selective a bbox or time range
        # is: plan filtered pages for their values each time.
        await cur.execute(statement, params, prepare=False if _filtered(query) else None)
        row = await cur.fetchone()
    assert row is not None  # an aggregate always returns one row
    tag, matched, returned, features, last = row
    if matched is None and count:  # counted before, under the same change tag
        assert known is not None
        matched = known[1]
    elif matched is not None and tag is not None:
        if matched <= count_max:
            counts[query.count_key] = (tag.decode(), matched)
        else:
            counts.pop(query.count_key, None)
    return Page(features=features, returned=returned, matched=matched, last=last and last.decode())


def _filtered(query: ItemsQuery) -> bool:
    return bool(query.bbox or query.time or query.filters)


async def fetch_item(conn: AsyncConnection, layer: LayerSpec, identifier: str) -> Item | None:
    """One feature by its id field, or None (also when the id cannot be of the column's type)."""
    try:
        value = typed_value(column_kinds(layer)[layer.id_field], identifier, "id")
    except InvalidParameter:
        return None
    async with conn.cursor() as cur:
        await cur.execute(_item_sql(layer), {"id": value})
        row = await cur.fetchone()
    if row is None:
        return None
    feature, prev, next_ = row
    return Item(feature=feature.encode(), prev=value if prev is None else prev, next=value if next_ is None else next_)
