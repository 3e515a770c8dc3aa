-- Citizen reports as point events for the hot-spot analyses (any status: every report is demand).
SELECT code AS id, received_at AS created_at, category, ST_Y(geom) AS lat, ST_X(geom) AS lon, synthetic
FROM citizen_reports
WHERE (%(category)s::text IS NULL OR category = %(category)s)
  AND received_at < coalesce(%(until)s::timestamptz, 'infinity')
ORDER BY received_at, id
