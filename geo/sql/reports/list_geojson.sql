-- Public reports as a GeoJSON FeatureCollection built in PostgreSQL (no personal data).
WITH page AS (
    SELECT r.code, r.category, r.status, r.priority, r.channel, r.admin_unit_code, r.responsible_level,
           r.department, r.received_at, r.due_at, r.resolved_at, r.rating, r.geom
    FROM citizen_reports r
    WHERE (%(bbox)s::float8[] IS NULL
           OR r.geom && ST_MakeEnvelope((%(bbox)s::float8[])[1], (%(bbox)s::float8[])[2],
                                        (%(bbox)s::float8[])[3], (%(bbox)s::float8[])[4], 4326))
      AND (%(status)s::text IS NULL OR r.status = %(status)s)
      AND (%(category)s::text IS NULL OR r.category = %(category)s)
      AND (%(unit)s::text IS NULL OR r.admin_unit_code = %(unit)s)
    ORDER BY r.received_at DESC, r.id DESC
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'id', code,
        'geometry', ST_AsGeoJSON(geom, 6)::json,
        'properties', to_jsonb(page) - 'geom'
    )), '[]'::json)
)::text FROM page
