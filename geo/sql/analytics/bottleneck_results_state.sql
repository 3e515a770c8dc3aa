-- The stored periods and what each saw, for the job to decide which to recompute.
SELECT key, at, reports_version, computed_at FROM bottleneck_results
