-- The 40 wards/communes as a light GeoJSON FeatureCollection: simplified in metres (UTM 48N)
-- so a dashboard map loads a few hundred kB instead of the 3 MB survey-grade polygons.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', json_agg(json_build_object(
        'type', 'Feature',
        'id', code,
        'geometry', ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology(ST_Transform(geom, 32648),
                                                                         %(tolerance_m)s), 4326), 6)::json,
        'properties', json_build_object('code', code, 'name', name, 'level', level, 'population', population)
    ) ORDER BY code)
)::text
FROM admin_units
WHERE level <> 'city'
