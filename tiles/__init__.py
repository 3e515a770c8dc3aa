"""Tiles without the web: the tile grid and which z/x/y are tiles (``grid``), vector tiles from
``ST_AsMVT`` (``vector``), PNG tiles of the hazard rasters with rio-tiler (``raster``), the cache
keyed by layer versions (``cache``), TileJSON and OGC API - Tiles documents (``metadata``) and
the basemap's MapLibre style (``style``). ``api/routers/tiles.py`` serves them over HTTP.

May import: ``geo`` and ``layers``. Not ``api`` or ``cli``; no web framework.
"""
