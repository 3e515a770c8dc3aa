-- The latest run's forecast cells within the top share of the area, highest expectation first.
SELECT json_build_object(
    'type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 6)::json,
    'properties', json_build_object('run_id', run_id, 'cell_i', cell_i, 'cell_j', cell_j, 'cell_m', cell_m,
        'period', period, 'report_category', report_category, 'period_start', period_start,
        'period_end', period_end, 'model', model, 'expected', expected, 'rank', rank,
        'top_share', top_share)) AS feature
FROM forecast_cells
WHERE run_id = %(run_id)s AND top_share <= %(top_share)s
ORDER BY rank
LIMIT %(limit)s
