-- /items?limit=&offset= in one statement: one page in id order as a FeatureCollection, no count.
-- Coordinates at 7 decimals, as ours (ST_AsGeoJSON's default of 9 writes longer text: not the same work).
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberReturned', count(*),
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', f.{id_field},
        'geometry', ST_AsGeoJSON(f.geom, 7)::json,
        'properties', json_build_object({properties})
    )), '[]'::json)
)::text
FROM (
    SELECT *
    FROM {table}
    ORDER BY id
    LIMIT %(limit)s OFFSET %(offset)s
) AS f
