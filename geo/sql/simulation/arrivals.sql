-- Generated reports received in [%(start)s, %(end)s): what new simulated reports are drawn from
-- (the same season a year before), duplicates included (a drawn one files a near-duplicate of a recent
-- report). Synthetic rows only: a citizen's words are never reused.
SELECT category, channel, description, ST_X(geom) AS lon, ST_Y(geom) AS lat, duplicate_of IS NOT NULL AS duplicate
  FROM citizen_reports
 WHERE synthetic AND received_at >= %(start)s AND received_at < %(end)s
 ORDER BY id
