-- Open reports of the same category near a point and recent enough to be the same problem.
SELECT r.code, r.category, r.status, r.received_at,
       round(ST_Distance(r.geom::geography, p.g::geography))::int AS distance_m
FROM citizen_reports r,
     (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g) p
WHERE r.category = %(category)s
  AND r.status IN ('received', 'assigned', 'in_progress', 'reopened')
  AND r.code <> %(exclude_code)s
  AND r.received_at >= %(since)s
  -- A box of the radius in degrees first (the GiST index), then the exact distance in metres.
  AND r.geom && ST_Expand(p.g, %(radius_m)s / (111000.0 * greatest(cos(radians(%(lat)s)), 0.01)))
  AND ST_DWithin(r.geom::geography, p.g::geography, %(radius_m)s)
ORDER BY distance_m, r.received_at DESC
LIMIT 5
