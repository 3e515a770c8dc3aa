-- Before a rebuild: every mark is covered by the recount that follows (a later statement). Waits for
-- writers still holding a mark, so their reports are committed before the recount starts.
DELETE FROM report_cells_dirty
