-- Generated reports received in [%(start)s, %(end)s): what new simulated reports are drawn from
-- (the same season a year before). Synthetic rows only: a citizen's words are never reused.
SELECT category, channel, description, ST_X(geom) AS lon, ST_Y(geom) AS lat
  FROM citizen_reports
 WHERE synthetic AND duplicate_of IS NULL AND received_at >= %(start)s AND received_at < %(end)s
 ORDER BY id
