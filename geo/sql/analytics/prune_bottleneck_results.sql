-- Periods that are no longer standard (a month that rolled out, a changed setting).
DELETE FROM bottleneck_results WHERE key <> ALL(%(keys)s::text[])
