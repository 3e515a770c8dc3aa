"""The tile cache: rendered tiles kept in memory, gzipped, until a layer they read changes.

Every layer table carries a statement trigger that bumps its row in ``layer_versions``
(migration 0004). A tile is cached under the versions of its source layers, so a committed
change makes the old entries unreachable at once; they age out of the LRU. Versions are read
from the database at most once per ``ttl_s`` (one small query for all layers), so a warm tile
costs no database round trip; a client's ``Cache-Control: no-cache`` forces a fresh read.

Tiles are kept gzipped (compressed once, when rendered): nearly every client accepts gzip, so a
warm tile costs no compression; the rare client that does not gets it inflated.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime

from cachetools import LRUCache
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from geo.db import PRIMARY, Pools, load_sql
from tiles.grid import check_tile
from tiles.vector import Tileset, render_tile

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_VERSION_TTL_S = 1.0
GZIP_LEVEL = 6  # level 9 costs twice the CPU for ~1 % less


@dataclass(frozen=True)
class Cached:
    """A cached tile: gzipped, and plain once a client that does not accept gzip asked for it."""

    gzipped: bytes
    plain: bytes | None = None

    def size(self) -> int:
        return len(self.gzipped) + len(self.plain or b"")


# Tiles by (tileset, versions, z, x, y): an LRU bounded by the bytes it holds.
TileCache = LRUCache[tuple, Cached]


def tile_cache(max_bytes: int = DEFAULT_MAX_BYTES) -> TileCache:
    """An empty tile LRU holding at most ``max_bytes`` of tiles."""
    return LRUCache(maxsize=max_bytes, getsizeof=Cached.size)


class LayerVersions:
    """The latest ``layer_versions`` rows of each server, re-read at most once per ``ttl_s``.

    Kept per server (the primary, each replica): a tile is rendered on the server whose versions
    keyed it, and a server's data only moves forward, so cached bytes are never older than their key.
    """

    def __init__(self, ttl_s: float = DEFAULT_VERSION_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._memo: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = asyncio.Lock()

    async def current(self, pool: AsyncConnectionPool, *, source: str = PRIMARY,
                      refresh: bool = False) -> dict[str, str]:  # fmt: skip
        """layer id → version tag (counter and change time, so a recreated database never collides)."""
        read_at, versions = self._memo.get(source, (float("-inf"), {}))
        if not refresh and time.monotonic() - read_at < self.ttl_s:
            return versions
        async with self._lock:
            read_at, versions = self._memo.get(source, (float("-inf"), {}))
            if not refresh and time.monotonic() - read_at < self.ttl_s:
                return versions  # another request refreshed while this one waited
            started = time.monotonic()
            async with pool.connection() as conn:
                versions = await read_versions(conn)
            self._memo[source] = (started, versions)
        return versions


async def read_versions(conn: AsyncConnection) -> dict[str, str]:
    """Every tracked layer's version tag, straight from the database."""
    async with conn.cursor() as cur:
        await cur.execute(load_sql("tiles/versions"))
        rows: list[tuple[str, int, datetime]] = await cur.fetchall()
    return {layer_id: f"{version}.{changed_at.timestamp():.6f}" for layer_id, version, changed_at in rows}


@dataclass(frozen=True)
class Tile:
    """A tile's bytes in the encoding asked for (empty: no feature), and how it was obtained."""

    content: bytes
    etag: str
    cache: str  # "hit", "miss" or "bypass" (a source layer is not tracked: never cached)
    gzipped: bool


def compress(content: bytes) -> bytes:
    """A rendered tile as kept and served: gzipped (fixed mtime, so equal tiles are equal bytes)."""
    return gzip.compress(content, compresslevel=GZIP_LEVEL, mtime=0) if content else b""


class TileStore:
    """Tiles of every tileset, read from a replica in rotation (else the primary) and cached until a
    source layer changes."""

    def __init__(self, pools: Pools, cache: TileCache | None = None, versions: LayerVersions | None = None):
        self.pools = pools
        self.cache = cache if cache is not None else tile_cache()
        self.versions = versions or LayerVersions()

    @property
    def pool(self) -> AsyncConnectionPool:
        """The primary's pool."""
        return self.pools.primary

    async def version_key(self, tileset: Tileset, z: int, *, refresh: bool = False,
                          pool: AsyncConnectionPool | None = None, source: str = PRIMARY) -> str | None:  # fmt: skip
        """The versions of the sources of the tileset's zoom-``z`` tiles on ``source``, or None when one
        of them is not tracked (an aggregated low zoom depends on its aggregate only)."""
        versions = await self.versions.current(pool or self.pools.primary, source=source, refresh=refresh)
        sources = tileset.sources(z)
        tags = [versions.get(layer) for layer in sources]
        if any(tag is None for tag in tags):
            return None
        return ",".join(f"{s}={t}" for s, t in zip(sources, tags, strict=True))

    async def etag(self, tileset: Tileset, z: int, *, refresh: bool = False, after: int | None = None) -> str | None:
        """The ETag every tile of the tileset at zoom ``z`` has now, without rendering; None if untracked.

        ``after``: a WAL position the answer must reflect (the client's last write), see ``geo.db.Pools``.
        """

        async def on(pool: AsyncConnectionPool, source: str) -> str | None:
            key = await self.version_key(tileset, z, refresh=refresh, pool=pool, source=source)
            return None if key is None else _etag(tileset, key)

        return await self.pools.route(on, after=after)

    async def tile(self, tileset: Tileset, z: int, x: int, y: int, *, refresh: bool = False,
                   after: int | None = None, gzipped: bool = False) -> Tile:  # fmt: skip
        """One tile from the cache, or rendered by PostGIS and cached under the current versions;
        ``gzipped``: its bytes gzipped (for a client that accepts gzip), else plain MVT."""
        check_tile(z, x, y)

        async def on(pool: AsyncConnectionPool, source: str) -> Tile:
            return await self._tile(pool, source, tileset, z, x, y, refresh=refresh, gzipped=gzipped)

        return await self.pools.route(on, after=after)

    async def _tile(self, pool: AsyncConnectionPool, source: str, tileset: Tileset, z: int, x: int, y: int, *,
                    refresh: bool, gzipped: bool) -> Tile:  # fmt: skip
        version = await self.version_key(tileset, z, refresh=refresh, pool=pool, source=source)
        if version is None:
            async with pool.connection() as conn:
                content = await render_tile(conn, tileset, z, x, y)
            etag = _etag(tileset, hashlib.sha1(content).hexdigest())
            return Tile(compress(content) if gzipped else content, etag, "bypass", gzipped)
        # Versions are read before the data, on the same server, so cached bytes are never older than their key.
        key = (tileset.id, version, z, x, y)
        etag = _etag(tileset, version)
        cached = self.cache.get(key)
        if cached is None:
            async with pool.connection() as conn:
                content = await render_tile(conn, tileset, z, x, y)
            entry = Cached(compress(content), None if gzipped else content)
            self._keep(key, entry)
            return Tile(entry.gzipped if gzipped else content, etag, "miss", gzipped)
        if gzipped:
            return Tile(cached.gzipped, etag, "hit", True)
        if cached.plain is None:  # inflated once, then kept beside the gzipped bytes
            cached = Cached(cached.gzipped, gzip.decompress(cached.gzipped) if cached.gzipped else b"")
            self._keep(key, cached)
        return Tile(cached.plain or b"", etag, "hit", False)

    def _keep(self, key: tuple, entry: Cached) -> None:
        if entry.size() <= self.cache.maxsize:  # larger than the whole cache: not kept
            self.cache[key] = entry


def _etag(tileset: Tileset, version: str) -> str:
    digest = hashlib.sha1(f"{tileset.fingerprint}|{version}".encode()).hexdigest()[:16]
    return f'"{tileset.id}-{digest}"'
