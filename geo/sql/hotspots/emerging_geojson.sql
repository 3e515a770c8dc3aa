-- The latest run's emerging hot-spot cells as GeoJSON features.
SELECT json_build_object(
    'type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 6)::json,
    'properties', json_build_object('run_id', run_id, 'cell_i', cell_i, 'cell_j', cell_j, 'cell_m', cell_m,
        'period', period, 'report_category', report_category, 'slices', slices, 'first_slice', first_slice,
        'last_slice', last_slice, 'pattern', pattern, 'events', events, 'hot_slices', hot_slices,
        'cold_slices', cold_slices, 'final_z', final_z, 'trend_tau', trend_tau, 'trend_p', trend_p)) AS feature
FROM emerging_hotspots
WHERE run_id = %(run_id)s AND (%(pattern)s::text IS NULL OR pattern = %(pattern)s)
ORDER BY pattern, abs(final_z) DESC, id
LIMIT %(limit)s
