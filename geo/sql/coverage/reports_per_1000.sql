-- Reports received per 1,000 residents of each ward/commune in [start, end).
SELECT u.code, u.name, u.level, u.population, count(r.id)::int AS reports,
       CASE WHEN u.population > 0 THEN count(r.id) * 1000.0 / u.population END AS per_1000
FROM admin_units AS u
LEFT JOIN citizen_reports AS r
       ON r.admin_unit_code = u.code AND r.received_at >= %(start)s AND r.received_at < %(end)s
      AND (%(category)s::text IS NULL OR r.category = %(category)s)
WHERE u.level <> 'city'
GROUP BY u.code, u.name, u.level, u.population
ORDER BY per_1000 DESC NULLS LAST, u.code
