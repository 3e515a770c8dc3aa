-- The 40 wards/communes as GeoJSON (EPSG:4326) with their population.
SELECT code, name, population, ST_AsGeoJSON(geom)::json AS geometry
  FROM admin_units
 WHERE level <> 'city'
 ORDER BY code
