-- KPIs of citizen reports received in [%(start)s, %(end)s), grouped by the requested key.
-- Definitions (docs/kpis.md): processed = resolved, closed, rejected or duplicate;
-- on time = resolved by the original deadline without an extension; late with extension =
-- resolved after an approved extension, by the extended deadline; late = resolved after the
-- deadline in force; satisfied = rating >= 4 among rated; backlog and overdue as of %(now)s.
WITH r AS (
    SELECT r.*, u.level AS unit_level, {group_key} AS key,
           r.status IN ('resolved', 'closed', 'rejected', 'duplicate') AS processed,
           r.resolved_at IS NOT NULL AS resolved,
           r.status IN ('received', 'assigned', 'in_progress', 'reopened') AS open,
           extract(epoch FROM r.resolved_at - r.received_at) / 3600.0 AS hours_to_resolve
    FROM citizen_reports r
    LEFT JOIN admin_units u ON u.code = r.admin_unit_code
    WHERE r.received_at >= %(start)s AND r.received_at < %(end)s
      AND (%(unit)s::text IS NULL OR r.admin_unit_code = %(unit)s)
      AND (%(level)s::text IS NULL OR u.level = %(level)s)
      AND (%(category)s::text IS NULL OR r.category = %(category)s)
      AND (%(channel)s::text IS NULL OR r.channel = %(channel)s)
), k AS (
    SELECT key,
       count(*) AS received,
       count(*) FILTER (WHERE processed) AS processed,
       count(*) FILTER (WHERE resolved) AS resolved,
       count(*) FILTER (WHERE resolved AND resolved_at <= due_at AND extension_status IS DISTINCT FROM 'approved')
           AS on_time,
       count(*) FILTER (WHERE resolved AND resolved_at <= due_at AND extension_status = 'approved')
           AS late_with_extension,
       count(*) FILTER (WHERE resolved AND resolved_at > due_at) AS late,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_resolve) AS median_hours_to_resolve,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours_to_resolve) AS p90_hours_to_resolve,
       count(rating) AS rated,
       count(*) FILTER (WHERE rating >= 4) AS satisfied,
       avg(rating)::float8 AS mean_rating,
       count(*) FILTER (WHERE reopened_count > 0) AS reopened,
       count(*) FILTER (WHERE open) AS backlog,
       count(*) FILTER (WHERE open AND due_at < %(now)s) AS overdue,
       count(*) FILTER (WHERE open AND %(now)s - received_at < interval '1 day') AS backlog_under_1d,
       count(*) FILTER (WHERE open AND %(now)s - received_at >= interval '1 day'
                                   AND %(now)s - received_at < interval '7 days') AS backlog_1_to_7d,
       count(*) FILTER (WHERE open AND %(now)s - received_at >= interval '7 days'
                                   AND %(now)s - received_at < interval '30 days') AS backlog_7_to_30d,
       count(*) FILTER (WHERE open AND %(now)s - received_at >= interval '30 days') AS backlog_over_30d
FROM r
GROUP BY key
)
SELECT k.*,
       processed::float8 / nullif(received, 0) AS processed_share,
       on_time::float8 / nullif(resolved, 0) AS on_time_share,
       late_with_extension::float8 / nullif(resolved, 0) AS late_with_extension_share,
       late::float8 / nullif(resolved, 0) AS late_share,
       satisfied::float8 / nullif(rated, 0) AS satisfied_share,
       reopened::float8 / nullif(received, 0) AS reopened_share
FROM k
ORDER BY key NULLS FIRST
