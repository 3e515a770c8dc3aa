-- Wards and communes with population density (inhabitants per km², official population over
-- the polygon's area), as GeoJSON for the planners' choropleth.
SELECT json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce(json_agg(json_build_object(
               'type', 'Feature',
               'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(unit.geom, %(tolerance)s::float8), 5)::json,
               'properties', json_build_object(
                   'code', unit.code,
                   'name', unit.name,
                   'level', unit.level,
                   'population', unit.population,
                   'area_km2', round(unit.area_km2::numeric, 1),
                   'density', CASE WHEN unit.area_km2 > 0 AND unit.population IS NOT NULL
                                   THEN round((unit.population / unit.area_km2)::numeric) END)
           ) ORDER BY unit.code), '[]'::json))::text
FROM admin_units AS unit
WHERE unit.level <> 'city'
