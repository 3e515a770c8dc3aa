-- Reports per ST_HexagonGrid cell (edge %(cell_m)s m, in %(srid)s metres) and day/week/month (Huế time).
-- Each report goes to exactly one hexagon: of the cells meeting the point, the lowest (i, j).
WITH reports AS (
    SELECT ST_Transform(geom, %(srid)s) AS g,
           date_trunc(%(period)s, received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS period_start
    FROM citizen_reports
    WHERE received_at >= %(start)s AND received_at < %(end)s
      AND (%(category)s::text IS NULL OR category = %(category)s)
), cells AS (
    SELECT h.i, h.j, h.geom, r.period_start
    FROM reports AS r
    CROSS JOIN LATERAL (
        SELECT hex.i, hex.j, hex.geom FROM ST_HexagonGrid(%(cell_m)s, r.g) AS hex
        WHERE ST_Intersects(hex.geom, r.g) ORDER BY hex.i, hex.j LIMIT 1
    ) AS h
)
SELECT i, j, period_start, count(*)::int AS events,
       ST_AsGeoJSON(ST_Transform(min(geom), 4326), 6)::json AS geometry
FROM cells
GROUP BY i, j, period_start
ORDER BY period_start, i, j
LIMIT %(limit)s
