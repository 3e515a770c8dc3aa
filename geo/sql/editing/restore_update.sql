-- Put an existing feature back to a recorded state (properties as JSON, geometry as GeoJSON),
-- typed by PostgreSQL itself; stamped now. Placeholders: table, columns (all but id and geom), id.
UPDATE {table} AS t
   SET ({columns}) = (SELECT {columns}
                        FROM jsonb_populate_record(NULL::{table}, %(properties)s || jsonb_build_object('updated_at', now()))),
       geom = ST_SetSRID(ST_GeomFromGeoJSON(%(geometry)s), 4326)
 WHERE t.{id} = %(id)s
