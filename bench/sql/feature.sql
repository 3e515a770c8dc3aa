-- /items/<id> in one statement: one Feature built in PostgreSQL, looked up by the OGC feature id.
SELECT json_build_object(
    'type', 'Feature',
    'id', f.{id_field},
    'geometry', ST_AsGeoJSON(f.geom)::json,
    'properties', json_build_object({properties})
)::text
FROM {table} AS f
WHERE f.{id_field} = %(id)s
