-- Every zoom-17 cell counted from every report (after a history load; then cells_rebuild_coarse).
-- Migration 0027 keeps its own copy.
INSERT INTO report_cells (zoom, x, y, reports, open_reports, resolved_reports, geom)
SELECT 17, cell.x, cell.y, count(*)::integer,
       (count(*) FILTER (WHERE huegis_report_status_group(r.status) = 'open'))::integer,
       (count(*) FILTER (WHERE huegis_report_status_group(r.status) = 'resolved'))::integer,
       ST_Transform(ST_Centroid(ST_TileEnvelope(17, cell.x, cell.y)), 4326)
FROM citizen_reports AS r
CROSS JOIN LATERAL huegis_report_cell(r.geom) AS cell
GROUP BY cell.x, cell.y
