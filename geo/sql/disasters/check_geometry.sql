-- Validity of a proposed zone geometry (GeoJSON, EPSG:4326) and where it lies against the city.
WITH g AS (
    SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(geojson)s), 4326) AS geom
), city AS (
    SELECT geom FROM admin_units WHERE level = 'city'
)
SELECT GeometryType(g.geom) AS geometry_type,
       ST_IsValid(g.geom) AS valid,
       ST_IsValidReason(g.geom) AS reason,
       ST_Intersects(g.geom, city.geom) AS overlaps_city,
       ST_Distance(ST_Transform(g.geom, 32648), ST_Transform(city.geom, 32648)) / 1000.0 AS km_from_city,
       ST_Area(ST_Transform(g.geom, 32648)) / 1e6 AS area_km2
  FROM g, city
