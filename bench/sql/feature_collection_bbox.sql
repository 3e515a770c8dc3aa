-- /items?bbox=&limit= in one statement: the FeatureCollection built in PostgreSQL and fetched as
-- text, no HTTP. The physical limit of the stack (no numberMatched count).
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
    WHERE geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)
    ORDER BY id
    LIMIT %(limit)s
) AS f
