-- The latest run's Gi* cells as GeoJSON features, strongest first.
SELECT json_build_object(
    'type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 6)::json,
    'properties', json_build_object('run_id', run_id, 'cell_i', cell_i, 'cell_j', cell_j, 'cell_m', cell_m,
        'period', period, 'report_category', report_category, 'window_start', window_start,
        'window_end', window_end, 'events', events, 'gi_z', gi_z, 'p_value', p_value, 'gi_class', gi_class,
        'label', label)) AS feature
FROM hotspot_cells
WHERE run_id = %(run_id)s AND abs(gi_class) >= %(min_class)s
  AND (%(kind)s::text IS NULL OR (%(kind)s = 'hot' AND gi_class > 0) OR (%(kind)s = 'cold' AND gi_class < 0))
ORDER BY abs(gi_class) DESC, abs(gi_z) DESC, id
LIMIT %(limit)s
