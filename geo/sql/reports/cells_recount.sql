-- Recount the given zoom-17 cells (arrays %(xs)s, %(ys)s of tile columns and rows) from the reports:
-- a fresh statement after cells_take, so it sees every write whose mark was taken. Cells left with
-- no report are deleted. The && candidate box is the cell widened by a hundredth (rounding of the
-- transform); huegis_report_cell decides. Then cells_recount_coarse.
WITH cells AS (
    SELECT DISTINCT x, y FROM unnest(%(xs)s::integer[], %(ys)s::integer[]) AS t (x, y)
),
counted AS (
    SELECT c.x, c.y, count(*)::integer AS reports,
           (count(*) FILTER (WHERE huegis_report_status_group(r.status) = 'open'))::integer AS open_reports,
           (count(*) FILTER (WHERE huegis_report_status_group(r.status) = 'resolved'))::integer AS resolved_reports
    FROM cells AS c
    JOIN citizen_reports AS r
      ON r.geom && ST_Transform(ST_TileEnvelope(17, c.x, c.y, margin => 0.01), 4326)
    CROSS JOIN LATERAL huegis_report_cell(r.geom) AS cell
    WHERE cell.x = c.x AND cell.y = c.y
    GROUP BY c.x, c.y
),
emptied AS (
    DELETE FROM report_cells AS rc
    USING cells AS c
    WHERE rc.zoom = 17 AND rc.x = c.x AND rc.y = c.y
      AND NOT EXISTS (SELECT 1 FROM counted AS k WHERE k.x = c.x AND k.y = c.y)
    RETURNING rc.x
)
INSERT INTO report_cells AS rc (zoom, x, y, reports, open_reports, resolved_reports, geom)
SELECT 17, k.x, k.y, k.reports, k.open_reports, k.resolved_reports,
       ST_Transform(ST_Centroid(ST_TileEnvelope(17, k.x, k.y)), 4326)
FROM counted AS k
ON CONFLICT (zoom, x, y) DO UPDATE
SET reports = EXCLUDED.reports, open_reports = EXCLUDED.open_reports, resolved_reports = EXCLUDED.resolved_reports
