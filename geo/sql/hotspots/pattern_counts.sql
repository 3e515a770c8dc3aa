SELECT pattern, count(*)::int AS cells FROM emerging_hotspots WHERE run_id = %(run_id)s GROUP BY pattern ORDER BY pattern
