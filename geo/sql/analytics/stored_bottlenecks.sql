-- The stored flags for a request: a running period of that window as of %(fresh_since)s or later when
-- %(running)s, else the calendar period ending exactly at %(at)s; with whether the reports changed since.
SELECT key, at, window_days, running, computed_at, seconds, reports_version, last_event_id, flags,
       reports_version = coalesce((SELECT version FROM layer_versions WHERE layer_id = 'citizen_reports'), 0)
           AS current
FROM bottleneck_results
WHERE window_days = %(window_days)s
  AND CASE WHEN %(running)s::boolean THEN running AND at >= %(fresh_since)s::timestamptz
           ELSE NOT running AND at = %(at)s::timestamptz END
ORDER BY at DESC
LIMIT 1
