"""The web shell: the FastAPI app (``main.create_app``), typed dependencies (``deps``), the error
mapping from domain errors to status codes (``errors``), rate and body limits (``limits``),
every router (``routers/``: reports, Open311, hotline, OGC API Features with pygeoapi mounted,
tiles, maps, pages...) and the pages' templates and static files (``web/``).

Routers parse and validate, call one service function of ``geo`` and shape the response.
May import: ``geo``, ``layers``, ``tiles``. Not ``cli``.
"""
