-- How far report_cells is behind the reports: marked cells and the age of the oldest mark.
SELECT count(*) AS marked, extract(epoch FROM now() - min(marked_at))::float8 AS behind_s FROM report_cells_dirty
