-- The ward/commune covering a point (lon/lat, EPSG:4326). Units do not overlap (the loader
-- removes slivers); ORDER BY keeps the answer deterministic on a shared boundary.
SELECT code, name, level, parent_code
FROM admin_units
WHERE level <> 'city'
  AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ORDER BY code
LIMIT 1
