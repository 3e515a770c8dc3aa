"""Compressed responses: gzip for every text-like answer, vendor files compressed once and kept.

MapLibre alone is 1.1 MB and a planners' map page 2 MB of GeoJSON: gzip cuts both to about a
quarter. Dynamic answers (HTML, JSON, GeoJSON, MVT) are compressed per request by Starlette's
middleware at level 6 (level 9 costs twice the CPU for ~1 % less). Static files are compressed
once per file version and served from memory, so the middleware passes them by; vector tiles are
kept gzipped by the tile cache. A gzipped answer's ETag differs from the plain one's, and every
such answer says ``Vary: Accept-Encoding``, so HTTP caches and CDNs never hand one for the other.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from cachetools import LRUCache
from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Message, Receive, Scope, Send

LEVEL = 6
MIN_BYTES = 1024
# Already compressed (images, fonts, archives) or not worth it: served as they are.
COMPRESSIBLE = (".js", ".mjs", ".css", ".json", ".svg", ".html", ".map", ".txt", ".ico", ".geojson")
STATIC_MAX_AGE_S = 3600


def accepts_gzip(headers: Headers) -> bool:
    """Whether the request's ``Accept-Encoding`` admits gzip (the test Starlette's middleware makes)."""
    return "gzip" in headers.get("accept-encoding", "")


def gzip_etag(etag: str) -> str:
    """The ETag of a representation's gzipped form: it must differ from the plain form's (RFC 9110
    §8.8.3), or a cache that stored one would answer a conditional request for the other with 304."""
    weak, tag = ("W/", etag[2:]) if etag.startswith("W/") else ("", etag)
    return f'{weak}{tag[:-1]}-gzip"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` against one ETag, by weak comparison (as RFC 9110 says for this header)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag.removeprefix("W/") in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}


class Compression(GZipMiddleware):
    """Starlette's gzip middleware, naming ``Accept-Encoding`` in ``Vary`` once.

    It appends the name to whatever ``Vary`` a response has, so an answer that already varies by
    encoding (a kept gzipped tile or static file served plain) would say it twice.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_vary_once(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                names = dict.fromkeys(name.strip() for name in headers.get("vary", "").split(",") if name.strip())
                if names:
                    headers["Vary"] = ", ".join(names)
            await send(message)

        await super().__call__(scope, receive, send_vary_once)


def install_compression(app: FastAPI) -> None:
    """Gzip for clients that accept it (text, JSON, GeoJSON, MVT; not images); add it last: outermost."""
    app.add_middleware(Compression, minimum_size=MIN_BYTES, compresslevel=LEVEL)


class CompressedStaticFiles(StaticFiles):
    """StaticFiles that answers ``Accept-Encoding: gzip`` from a cache of compressed files."""

    def __init__(self, *, directory: Path, max_entries: int = 256) -> None:
        super().__init__(directory=directory)
        self.cache: LRUCache[tuple[str, int, int], bytes] = LRUCache(maxsize=max_entries)

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        request = Headers(scope=scope)
        plain = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        plain.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE_S}"
        plain.headers["Vary"] = "Accept-Encoding"
        path = str(full_path)
        compressed = (
            accepts_gzip(request)
            and path.endswith(COMPRESSIBLE)
            and stat_result.st_size >= MIN_BYTES
            and status_code == 200
        )
        if compressed:
            plain.headers["ETag"] = gzip_etag(plain.headers["etag"])
        if self.is_not_modified(plain.headers, request):
            return NotModifiedResponse(plain.headers)
        if not compressed:
            return plain
        key = (path, stat_result.st_mtime_ns, stat_result.st_size)
        body = self.cache.get(key)
        if body is None:
            body = self.cache[key] = gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)
        headers = {k: v for k, v in plain.headers.items() if k != "content-length"}
        return Response(body, headers={**headers, "Content-Encoding": "gzip"}, media_type=plain.media_type)
