-- The raster catalogue (one raster when %(name)s is given); bbox in lon/lat.
SELECT name, title, title_vi, kind, units, path, crs, width, height, resolution_m, nodata,
       min_value, max_value, colormap, source, synthetic, updated_at,
       ARRAY[ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)] AS bbox
  FROM rasters
 WHERE %(name)s::text IS NULL OR name = %(name)s
 ORDER BY name
