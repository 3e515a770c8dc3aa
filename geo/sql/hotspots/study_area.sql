-- Huế's land: the city polygon less the sea and the lagoons (reports never come from the water).
SELECT ST_AsBinary(ST_Difference(city.geom, coalesce((SELECT ST_Union(geom) FROM water_areas),
                                                     'SRID=4326;GEOMETRYCOLLECTION EMPTY'::geometry)))
FROM admin_units AS city
WHERE city.level = 'city'
