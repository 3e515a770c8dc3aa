-- Before a rebuild: no cell survives it unless it still has reports.
DELETE FROM report_cells
