"""pygeoapi (OGC API Features) mounted inside the app at ``/ogc``.

pygeoapi reads ``PYGEOAPI_CONFIG`` and ``PYGEOAPI_OPENAPI`` when its Starlette module is
imported, so the environment is set from the settings first, and the OpenAPI document (which
pygeoapi builds by reflecting the tables) is generated if it is missing.
"""

from __future__ import annotations

import importlib

from starlette.types import ASGIApp

from api.errors import OutageAs503
from geo.settings import Settings

PREFIX = "/ogc"


def create_ogc_app(settings: Settings) -> ASGIApp:
    """The pygeoapi Starlette application configured for this platform."""
    settings.export_pygeoapi_env()
    if not settings.pygeoapi_openapi.exists():
        from geo.cli import generate_openapi

        generate_openapi(settings)
    module = importlib.import_module("pygeoapi.starlette_app")
    # pygeoapi answers a database outage with a 500: make it our 503.
    return OutageAs503(module.APP)
