-- Invalid geometries made valid (ST_MakeValid), keeping the layer's dimension (1 points, 2 lines,
-- 3 polygons) and its single or multi type; a row whose repair leaves nothing of that type is
-- rejected. Returns (row, why it was invalid, why it was rejected or NULL) for every row touched.
WITH fixed AS (
    SELECT row_no, ST_IsValidReason(geom) AS reason,
           ST_CollectionExtract(ST_MakeValid(geom), {dimension}) AS geom
    FROM import_stage
    WHERE rejected IS NULL AND NOT ST_IsValid(geom)
), fitted AS (
    SELECT row_no, reason,
           CASE WHEN {single} AND ST_NumGeometries(geom) = 1 THEN ST_GeometryN(geom, 1)
                WHEN {single} THEN geom
                ELSE ST_Multi(geom) END AS geom
    FROM fixed
)
UPDATE import_stage s
SET geom = CASE WHEN ST_IsEmpty(f.geom) OR upper(GeometryType(f.geom)) <> {geometry_type} THEN s.geom ELSE f.geom END,
    repaired = f.reason,
    rejected = CASE WHEN ST_IsEmpty(f.geom) THEN 'invalid geometry (' || f.reason || ') and nothing is left once repaired'
                    WHEN upper(GeometryType(f.geom)) <> {geometry_type}
                    THEN 'invalid geometry (' || f.reason || '); repaired it is a ' || GeometryType(f.geom) END
FROM fitted f
WHERE s.row_no = f.row_no
RETURNING s.row_no, s.repaired, s.rejected
