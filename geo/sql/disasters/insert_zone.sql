-- A new disaster zone; the geometry arrives as GeoJSON in EPSG:4326 (already validated).
INSERT INTO disaster_zones (event, hazard, category, urgency, severity, certainty, status,
                            headline_vi, headline_en, instruction_vi, instruction_en,
                            onset, expires, source, synthetic, geom)
VALUES (%(event)s, %(hazard)s, %(category)s, %(urgency)s, %(severity)s, %(certainty)s, %(status)s,
        %(headline_vi)s, %(headline_en)s, %(instruction_vi)s, %(instruction_en)s,
        %(onset)s, %(expires)s, %(source)s, %(synthetic)s,
        ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%(geojson)s), 4326)))
RETURNING id
