"""The core of HueGIS: everything the platform knows, with no web framework and no data loading.

Holds the settings (one pydantic-settings object), the database pool and named SQL
(``db``, ``sql/``), the models (``models/``), the layer registry (``registry``), the OGC API
Features library (``ogc/``), time in Huế (``times``), and the domain services: ``reports/``
(intake, routing, SLA, workflow, hotline), ``disasters/`` (zones, CAP), ``auth/`` (accounts,
roles, tokens), ``analytics/`` (KPIs, bottlenecks, hot spots, forecasts), ``open311``, ``maps``.

May import: nothing of ``layers``, ``tiles``, ``api`` or ``cli``; no FastAPI, Starlette or uvicorn
(``make lint`` enforces both with import-linter).
"""
