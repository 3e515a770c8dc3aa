-- The report-cells lock, held to the end of the transaction, so a rebuild and a job run never
-- interleave: a rebuild waits for it (cells_try_lock: the job skips its run instead).
SELECT pg_advisory_xact_lock(hashtextextended('huegis-report-cells', 0))
