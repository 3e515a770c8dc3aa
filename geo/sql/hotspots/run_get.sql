SELECT id, created_at, actor, period, cell_m, report_category, params, study, backtest, chosen_model,
       (SELECT count(*) FROM hotspot_cells WHERE run_id = r.id)::int AS hotspot_cells,
       (SELECT count(*) FROM emerging_hotspots WHERE run_id = r.id)::int AS emerging_hotspots,
       (SELECT count(*) FROM forecast_cells WHERE run_id = r.id)::int AS forecast_cells
FROM hotspot_runs AS r
WHERE (%(id)s::int IS NULL OR id = %(id)s)
ORDER BY id DESC
LIMIT 1
