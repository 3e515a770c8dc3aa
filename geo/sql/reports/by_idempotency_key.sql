-- The report first filed with this Idempotency-Key, with what identifies its content.
SELECT id, code, category, description, ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM citizen_reports
WHERE idempotency_key = %(key)s
