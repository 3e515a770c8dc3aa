-- Take up to %(batch)s marked cells, oldest marks first: their marks are deleted (at commit) and
-- returned for the recount. A mark a writer still holds (its transaction is open) is skipped and
-- stays for the next run; a writer marking a taken cell waits for this transaction and marks it anew.
DELETE FROM report_cells_dirty AS d
USING (
    SELECT x, y FROM report_cells_dirty ORDER BY marked_at, x, y LIMIT %(batch)s FOR UPDATE SKIP LOCKED
) AS taken
WHERE d.x = taken.x AND d.y = taken.y
RETURNING d.x, d.y, d.marked_at
