-- One zone with its geometry as GeoJSON (EPSG:4326); FOR UPDATE when the caller will change it.
SELECT id, event, hazard, category, urgency, severity, certainty, status,
       headline_vi, headline_en, instruction_vi, instruction_en,
       onset, expires, cancelled_at, source, synthetic, updated_at,
       ST_AsGeoJSON(geom, 6)::json AS geometry,
       (cancelled_at IS NULL AND onset <= now() AND now() < expires) AS active
  FROM disaster_zones
 WHERE id = %(id)s
