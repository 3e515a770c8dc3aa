-- Share of each ward's population within %(radius_m)s m (straight line, geodesic) of a facility.
-- No population grid exists: a ward's population is spread evenly over its GeoNames populated places
-- (places.group_name = 'dan_cu'); a ward without any spreads it evenly over its land, as the centres
-- of a %(spacing_m)s m square grid (UTM 48N) that fall on the ward and not on the sea or a lagoon.
WITH wards AS (
    SELECT code, name, level, population, geom FROM admin_units WHERE level <> 'city'
), facilities AS (
    SELECT geom FROM {layer} WHERE (%(type)s::text IS NULL OR {kind} = %(type)s)
), settled AS (
    SELECT w.code, p.geom
    FROM wards AS w JOIN places AS p ON p.group_name = 'dan_cu' AND ST_Intersects(w.geom, p.geom)
), bare AS (
    SELECT w.code, ST_Transform(ST_Centroid(sq.geom), 4326) AS geom
    FROM wards AS w
    CROSS JOIN LATERAL ST_SquareGrid(%(spacing_m)s, ST_Transform(w.geom, 32648)) AS sq
    WHERE NOT EXISTS (SELECT 1 FROM settled AS s WHERE s.code = w.code)
      AND ST_Intersects(ST_Transform(w.geom, 32648), ST_Centroid(sq.geom))
), bare_land AS (
    SELECT b.code, b.geom FROM bare AS b
    WHERE NOT EXISTS (SELECT 1 FROM water_areas AS wa WHERE ST_Intersects(wa.geom, b.geom))
), points AS (
    SELECT code, geom, 'populated_places' AS method FROM settled
    UNION ALL
    SELECT code, geom, 'uniform_over_land' FROM bare_land
), flagged AS (
    SELECT pt.code, pt.method,
           EXISTS (SELECT 1 FROM facilities AS f
                   WHERE ST_DWithin(f.geom::geography, pt.geom::geography, %(radius_m)s)) AS covered
    FROM points AS pt
)
SELECT w.code, w.name, w.level, w.population, count(f.code)::int AS points, min(f.method) AS method,
       avg(f.covered::int)::float AS share,
       round(w.population * avg(f.covered::int))::int AS covered_population
FROM wards AS w LEFT JOIN flagged AS f ON f.code = w.code
GROUP BY w.code, w.name, w.level, w.population
ORDER BY w.code
