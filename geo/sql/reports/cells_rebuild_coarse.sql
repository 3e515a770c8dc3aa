-- Every zoom-14 cell summed from its 8 x 8 zoom-17 cells (after cells_rebuild).
INSERT INTO report_cells (zoom, x, y, reports, open_reports, resolved_reports, geom)
SELECT 14, x >> 3, y >> 3, sum(reports)::integer, sum(open_reports)::integer, sum(resolved_reports)::integer,
       ST_Transform(ST_Centroid(ST_TileEnvelope(14, x >> 3, y >> 3)), 4326)
FROM report_cells
WHERE zoom = 17
GROUP BY x >> 3, y >> 3
