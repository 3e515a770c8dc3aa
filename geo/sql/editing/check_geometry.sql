-- A proposed feature geometry (GeoJSON, lon/lat): read, repaired with ST_MakeValid when invalid,
-- fitted to the layer's type (the parts of its dimension, as a multi-geometry or a single part),
-- and where it lies against the city and the layer's box; with the ward/commune at its centre.
-- Parameters: geojson, dimension (0 point, 1 line, 2 polygon), multi, minx, miny, maxx, maxy.
WITH raw AS (
    SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(geojson)s), 4326) AS geom
), repaired AS (
    SELECT ST_IsValid(geom) AS valid, ST_IsValidReason(geom) AS reason,
           ST_CollectionExtract(CASE WHEN ST_IsValid(geom) THEN geom ELSE ST_MakeValid(geom) END,
                                %(dimension)s + 1) AS geom
      FROM raw
), fitted AS (
    SELECT valid, reason,
           CASE WHEN %(multi)s THEN ST_Multi(geom)
                WHEN ST_NumGeometries(geom) = 1 THEN ST_GeometryN(geom, 1)
                ELSE geom END AS geom
      FROM repaired
), city AS (
    SELECT geom FROM admin_units WHERE level = 'city'
)
SELECT f.valid, f.reason,
       ST_IsEmpty(f.geom) AS empty,
       GeometryType(f.geom) AS geometry_type,
       ST_IsValid(f.geom) AS fitted_valid,
       ST_AsEWKB(f.geom) AS ewkb,
       ST_Intersects(city.geom, f.geom) AS meets_city,
       f.geom @ ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326) AS inside_box,
       ST_Distance(ST_Transform(f.geom, 32648), ST_Transform(city.geom, 32648)) AS metres_from_city,
       (SELECT u.code FROM admin_units u
         WHERE u.level <> 'city' AND NOT ST_IsEmpty(f.geom) AND ST_Intersects(u.geom, ST_PointOnSurface(f.geom))
         ORDER BY u.code LIMIT 1) AS ward_code
  FROM fitted AS f, city
