-- The nearest features of a layer to a point: KNN on the index for candidates, then exact geodesic metres.
WITH here AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS pt),
candidates AS (
    SELECT f.id, f.name, f.{kind} AS kind, f.ward_code, f.geom
    FROM {layer} AS f, here
    WHERE (%(type)s::text IS NULL OR f.{kind} = %(type)s)
    ORDER BY f.geom <-> here.pt
    LIMIT %(candidates)s
)
SELECT c.id, c.name, c.kind AS type, c.ward_code, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
       ST_Distance(c.geom::geography, here.pt::geography) AS distance_m
FROM candidates AS c, here
ORDER BY distance_m, c.id
LIMIT %(limit)s
