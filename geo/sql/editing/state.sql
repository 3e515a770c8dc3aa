-- A feature's whole state for its history: every column but the geometry, and the geometry as
-- GeoJSON at full precision (restores put back exactly what was there).
-- Placeholders: table, id (the id column). Literal braces are doubled: a psycopg.sql template.
SELECT jsonb_build_object('properties', to_jsonb(t) - 'geom', 'geometry', ST_AsGeoJSON(t.geom, 15)::jsonb)
  FROM {table} AS t
 WHERE t.{id} = %(id)s
