-- What a CAP <area> needs: the zone's polygons (simplified to ~10 m, 5 decimals) and the wards it touches.
SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(z.geom, 0.0001), 5)::json AS geometry,
       coalesce((SELECT json_agg(json_build_object('code', a.code, 'name', a.name) ORDER BY a.code)
                   FROM admin_units AS a
                  WHERE a.level <> 'city' AND ST_Intersects(a.geom, z.geom)), '[]'::json) AS wards
  FROM disaster_zones AS z
 WHERE z.id = %(id)s
