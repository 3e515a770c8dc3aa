-- A table as one GeoJSON FeatureCollection, serialised by PostGIS (5 decimals: ~1 m).
-- {properties} is a composed json_build_object of the published columns. Polygons and lines
-- may be simplified (tolerance in degrees, 0: exact) to keep standalone map files small; {where}
-- picks the rows (a constant condition of geo/maps.py).
SELECT json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce(json_agg(json_build_object(
               'type', 'Feature',
               'geometry', ST_AsGeoJSON(
                   CASE WHEN %(tolerance)s::float8 > 0
                        THEN ST_SimplifyPreserveTopology(src.geom, %(tolerance)s::float8) ELSE src.geom END,
                   5)::json,
               'properties', {properties})), '[]'::json))::text
FROM {table} AS src
WHERE {where}
