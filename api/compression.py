"""Compressed responses: gzip for every text-like answer, vendor files compressed once and kept.

MapLibre alone is 1.1 MB and a planners' map page 2 MB of GeoJSON: gzip cuts both to about a
quarter. Dynamic answers (HTML, JSON, GeoJSON, MVT) are compressed per request by Starlette's
middleware at level 6 (level 9 costs twice the CPU for ~1 % less). Static files are compressed
once per file version and served from memory with their ETag, so the middleware passes them by.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from cachetools import LRUCache
from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

LEVEL = 6
MIN_BYTES = 1024
# Already compressed (images, fonts, archives) or not worth it: served as they are.
COMPRESSIBLE = (".js", ".mjs", ".css", ".json", ".svg", ".html", ".map", ".txt", ".ico", ".geojson")
STATIC_MAX_AGE_S = 3600


def install_compression(app: FastAPI) -> None:
    """Gzip for clients that accept it (text, JSON, GeoJSON, MVT; not images); add it last: outermost."""
    app.add_middleware(GZipMiddleware, minimum_size=MIN_BYTES, compresslevel=LEVEL)


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
        if self.is_not_modified(plain.headers, request):
            return NotModifiedResponse(plain.headers)
        path = str(full_path)
        if (
            "gzip" not in request.get("accept-encoding", "")
            or not path.endswith(COMPRESSIBLE)
            or stat_result.st_size < MIN_BYTES
            or status_code != 200
        ):
            return plain
        key = (path, stat_result.st_mtime_ns, stat_result.st_size)
        body = self.cache.get(key)
        if body is None:
            body = self.cache[key] = gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)
        headers = {k: v for k, v in plain.headers.items() if k != "content-length"}
        return Response(body, headers={**headers, "Content-Encoding": "gzip"}, media_type=plain.media_type)
