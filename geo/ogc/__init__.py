"""OGC API Features, all in one place: the pygeoapi configuration rendered from the registry
(``config``), the paging limits, pygeoapi providers that publish only registry columns
(``provider``), the fast path that builds JSON pages in PostgreSQL (``features``) and the OpenAPI
document (``openapi``). Web-free: ``api/routers/ogc.py`` mounts pygeoapi and routes requests here.
"""
