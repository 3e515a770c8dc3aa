-- Replace a zone's attributes and geometry (validated) and stamp the change.
UPDATE disaster_zones
   SET event = %(event)s, hazard = %(hazard)s, category = %(category)s, urgency = %(urgency)s,
       severity = %(severity)s, certainty = %(certainty)s, status = %(status)s,
       headline_vi = %(headline_vi)s, headline_en = %(headline_en)s,
       instruction_vi = %(instruction_vi)s, instruction_en = %(instruction_en)s,
       onset = %(onset)s, expires = %(expires)s,
       geom = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%(geojson)s), 4326)),
       updated_at = now()
 WHERE id = %(id)s
