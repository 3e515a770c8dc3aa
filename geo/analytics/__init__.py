"""Analytics on the reports (no web imports): KPIs and bottlenecks (``kpis``, ``bottlenecks``), spatial
coverage and nearest facilities (``coverage``), the hexagon grid and events (``grid``, ``events``),
Gi* hot spots and emerging hot spots (``hotspots``, ``emerging``), forecasts and their backtest
(``forecast``, ``backtest``) and the published hot-spot run (``hotspot_run``)."""
