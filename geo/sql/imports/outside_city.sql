-- Staged features that touch no part of the city (the city outline of admin_units), in row order.
SELECT s.row_no
FROM import_stage s
WHERE s.rejected IS NULL
  AND NOT EXISTS (SELECT 1 FROM admin_units u WHERE u.level = 'city' AND ST_Intersects(u.geom, s.geom))
ORDER BY s.row_no
