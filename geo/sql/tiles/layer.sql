-- One layer of a Mapbox Vector Tile: the features of a table in tile (z, x, y) of WebMercatorQuad.
-- A parenthesised scalar subquery, so the basemap concatenates several layers in one statement.
-- Numeric SRIDs and && against the buffered tile envelope in EPSG:4326 (the stored SRID) let the
-- planner use the GiST index; transforming the column instead would read the whole table.
-- Lines and polygons are simplified by about one tile unit at low zooms (tolerance in degrees,
-- 0 at high zooms) before clipping. The feature cap keeps the largest geometries, then the newest (points:
-- the highest ids, so the latest reports show where a dense tile is capped); the same on every request.
(SELECT ST_AsMVT(mvt, {layer_name}, %(extent)s::integer, 'geom', 'id')
 FROM (
     SELECT src.id{attributes},
            ST_AsMVTGeom(
                ST_Transform(
                    CASE WHEN %(tolerance)s::float8 > 0
                         THEN ST_Simplify(src.geom, %(tolerance)s::float8, true) ELSE src.geom END,
                    3857),
                ST_TileEnvelope(%(z)s::integer, %(x)s::integer, %(y)s::integer),
                %(extent)s::integer, %(buffer)s::integer, true) AS geom
     FROM {table} AS src
     WHERE src.geom && ST_Transform(
               ST_TileEnvelope(%(z)s::integer, %(x)s::integer, %(y)s::integer, margin => %(margin)s::float8), 4326)
     ORDER BY ST_Area(src.geom) DESC, ST_Length(src.geom) DESC, src.id DESC
     LIMIT %(max_features)s::integer
 ) AS mvt
 WHERE mvt.geom IS NOT NULL)
