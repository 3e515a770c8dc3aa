-- The report-cells lock if free (see cells_lock): false while a rebuild holds it.
SELECT pg_try_advisory_xact_lock(hashtextextended('huegis-report-cells', 0)) AS locked
