"""Data in: the files the platform ships (``data/``, with ``ATTRIBUTION.md``), their readers
(``sources``), the seeded generators of synthetic layers and the report history (``synth/``,
``reports_history``), hazard layers (``hazards``, ``storms``) and the loaders that write them
into PostGIS (``loaders``).

May import: ``geo``. Not ``tiles``, ``api`` or ``cli``; no web framework.
"""
