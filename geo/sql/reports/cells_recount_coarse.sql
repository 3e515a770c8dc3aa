-- Re-sum the zoom-14 cells holding the given zoom-17 cells (arrays %(xs)s, %(ys)s), after
-- cells_recount in the same transaction (a later statement: it sees the recounted cells).
WITH parents AS (
    SELECT DISTINCT x >> 3 AS x, y >> 3 AS y FROM unnest(%(xs)s::integer[], %(ys)s::integer[]) AS t (x, y)
),
summed AS (
    SELECT p.x, p.y, sum(c.reports)::integer AS reports, sum(c.open_reports)::integer AS open_reports,
           sum(c.resolved_reports)::integer AS resolved_reports
    FROM parents AS p
    JOIN report_cells AS c ON c.zoom = 17 AND c.x BETWEEN p.x * 8 AND p.x * 8 + 7 AND c.y BETWEEN p.y * 8 AND p.y * 8 + 7
    GROUP BY p.x, p.y
),
emptied AS (
    DELETE FROM report_cells AS rc
    USING parents AS p
    WHERE rc.zoom = 14 AND rc.x = p.x AND rc.y = p.y
      AND NOT EXISTS (SELECT 1 FROM summed AS s WHERE s.x = p.x AND s.y = p.y)
    RETURNING rc.x
)
INSERT INTO report_cells AS rc (zoom, x, y, reports, open_reports, resolved_reports, geom)
SELECT 14, s.x, s.y, s.reports, s.open_reports, s.resolved_reports,
       ST_Transform(ST_Centroid(ST_TileEnvelope(14, s.x, s.y)), 4326)
FROM summed AS s
ON CONFLICT (zoom, x, y) DO UPDATE
SET reports = EXCLUDED.reports, open_reports = EXCLUDED.open_reports, resolved_reports = EXCLUDED.resolved_reports
