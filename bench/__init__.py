"""Side-by-side benchmarks of HueGIS against tipg, pygeoapi and raw SQL: ``python -m bench --help``."""
