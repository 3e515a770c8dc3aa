-- Recent open synthetic reports of a category, within its duplicate window before %(at)s: what a
-- simulated near-duplicate report repeats (a second citizen reporting the same pothole).
SELECT r.code, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat, c.duplicate_radius_m
  FROM citizen_reports r
  JOIN report_categories c ON c.code = r.category
 WHERE r.synthetic AND r.category = %(category)s AND r.duplicate_of IS NULL
   AND r.status IN ('received', 'assigned', 'in_progress')
   AND r.received_at >= %(at)s::timestamptz - make_interval(days => c.duplicate_window_days)
   AND r.received_at < %(at)s
 ORDER BY r.received_at DESC
 LIMIT 20
