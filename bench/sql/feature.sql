-- /items/<id> in one statement: one Feature built in PostgreSQL, looked up by the OGC feature id.
-- Coordinates at 7 decimals, as ours (ST_AsGeoJSON's default of 9 writes longer text: not the same work).
SELECT json_build_object(
    'type', 'Feature',
    'id', f.{id_field},
    'geometry', ST_AsGeoJSON(f.geom, 7)::json,
    'properties', json_build_object({properties})
)::text
FROM {table} AS f
WHERE f.{id_field} = %(id)s
