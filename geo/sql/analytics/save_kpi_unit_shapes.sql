-- The units' simplified polygons for kpi_unit_month (%(codes)s, %(shapes)s: WKB in UTM 48N).
INSERT INTO kpi_unit_shapes AS s (unit_code, geom, updated_at)
SELECT code, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Transform(ST_SetSRID(ST_GeomFromWKB(wkb), 32648), 4326)), 3)),
       now()
FROM unnest(%(codes)s::text[], %(shapes)s::bytea[]) AS shape(code, wkb)
ON CONFLICT (unit_code) DO UPDATE SET geom = excluded.geom, updated_at = excluded.updated_at
WHERE NOT ST_Equals(s.geom, excluded.geom)
