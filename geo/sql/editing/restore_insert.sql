-- Bring a deleted feature back, with its id, from a recorded state; stamped now.
-- Placeholders: table, columns (all but geom, id included).
INSERT INTO {table} ({columns}, geom)
SELECT {columns}, ST_SetSRID(ST_GeomFromGeoJSON(%(geometry)s), 4326)
  FROM jsonb_populate_record(NULL::{table}, %(properties)s || jsonb_build_object('updated_at', now()))
