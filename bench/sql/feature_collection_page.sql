-- /items?limit=&offset= in one statement: one page in id order as a FeatureCollection, no count.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'numberReturned', count(*),
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', f.{id_field},
        'geometry', ST_AsGeoJSON(f.geom)::json,
        'properties', json_build_object({properties})
    )), '[]'::json)
)::text
FROM (
    SELECT *
    FROM {table}
    ORDER BY id
    LIMIT %(limit)s OFFSET %(offset)s
) AS f
