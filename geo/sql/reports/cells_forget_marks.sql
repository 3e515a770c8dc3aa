-- Before a rebuild: every mark is covered by the recount that follows (a later statement). Waits for
-- writers still holding a mark, so their reports are committed before the recount starts; locks
-- the marks in the writers' order (x, y: the triggers' ORDER BY), so the two never deadlock.
DELETE FROM report_cells_dirty AS d
USING (SELECT x, y FROM report_cells_dirty ORDER BY x, y FOR UPDATE) AS marked
WHERE d.x = marked.x AND d.y = marked.y
