-- Disaster zones as one GeoJSON FeatureCollection (EPSG:4326): those active at %(at)s (cancellation
-- included) or every zone when %(at)s is NULL; optionally one CAP status only.
SELECT json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce(json_agg(json_build_object(
               'type', 'Feature',
               'id', z.id,
               'geometry', ST_AsGeoJSON(z.geom, 6)::json,
               'properties', json_build_object(
                   'event', z.event, 'hazard', z.hazard, 'category', z.category, 'urgency', z.urgency,
                   'severity', z.severity, 'certainty', z.certainty, 'status', z.status,
                   'headline_vi', z.headline_vi, 'headline_en', z.headline_en,
                   'instruction_vi', z.instruction_vi, 'instruction_en', z.instruction_en,
                   'onset', z.onset, 'expires', z.expires, 'cancelled_at', z.cancelled_at,
                   'synthetic', z.synthetic, 'updated_at', z.updated_at,
                   'cap', '/feeds/cap/' || z.id || '.xml',
                   'exposure', '/api/disasters/' || z.id || '/exposure')
           ) ORDER BY z.onset, z.id), '[]'::json)
       ) AS collection
  FROM disaster_zones AS z
 WHERE (%(at)s::timestamptz IS NULL
        OR (z.onset <= %(at)s AND %(at)s < z.expires AND (z.cancelled_at IS NULL OR %(at)s < z.cancelled_at)))
   AND (%(status)s::text IS NULL OR z.status = %(status)s)
