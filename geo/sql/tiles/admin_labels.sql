-- Basemap layer of ward/commune label points: one point inside each unit (ST_PointOnSurface),
-- so a map labels each unit once instead of once per tile its polygon touches.
(SELECT ST_AsMVT(mvt, 'admin_labels', %(extent)s::integer, 'geom', 'id')
 FROM (
     SELECT unit.id, unit.code, unit.name, unit.level,
            ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(unit.geom), 3857),
                         ST_TileEnvelope(%(z)s::integer, %(x)s::integer, %(y)s::integer),
                         %(extent)s::integer, %(buffer)s::integer, true) AS geom
     FROM admin_units AS unit
     WHERE unit.level <> 'city'
       AND unit.geom && ST_Transform(
               ST_TileEnvelope(%(z)s::integer, %(x)s::integer, %(y)s::integer, margin => %(margin)s::float8), 4326)
 ) AS mvt
 WHERE mvt.geom IS NOT NULL)
