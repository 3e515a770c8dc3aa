-- The rows of an import, converted to the layer's column types, before validation (dropped at commit).
-- repaired/rejected say what validation did to a row; existed marks an upsert's rows whose key is in the layer.
CREATE TEMP TABLE import_stage (
    row_no integer PRIMARY KEY{columns},
    source text NOT NULL,
    geom geometry(Geometry, 4326) NOT NULL,
    repaired text,
    rejected text,
    existed boolean NOT NULL DEFAULT false
) ON COMMIT DROP
