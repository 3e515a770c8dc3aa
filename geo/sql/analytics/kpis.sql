-- KPIs of citizen reports received in [%(start)s, %(end)s), grouped by the requested key.
-- Definitions (docs/kpis.md): processed = resolved, closed, rejected or duplicate;
-- on time = resolved by the original deadline without an extension; late with extension =
-- resolved after an approved extension, by the extended deadline; late = resolved after the
-- deadline in force; satisfied = rating >= 4 among rated; backlog and overdue as of %(now)s.
-- With %(as_of)s (an instant in the past) every figure is as it stood then: only reports received
-- by then, each in the state its audit trail (report_events) gave it then, so a period can be
-- compared with another seen the same time after it began. Without, the reports as they are now.
-- The month_columns placeholder: nothing for the API; for kpi_unit_month, what makes months add up exactly.
WITH base AS NOT MATERIALIZED (
    SELECT r.id, r.received_at, r.due_at, r.status, r.resolved_at, r.extension_status, r.rating,
           r.reopened_count, {group_key} AS key
    FROM citizen_reports r
    LEFT JOIN admin_units u ON u.code = r.admin_unit_code
    WHERE r.received_at >= %(start)s AND r.received_at < %(end)s
      AND (%(as_of)s::timestamptz IS NULL OR r.received_at <= %(as_of)s::timestamptz)
      AND (%(unit)s::text IS NULL OR r.admin_unit_code = %(unit)s)
      AND (%(units)s::text[] IS NULL OR r.admin_unit_code = ANY (%(units)s::text[]))
      AND (%(level)s::text IS NULL OR u.level = %(level)s)
      AND (%(category)s::text IS NULL OR r.category = %(category)s)
      AND (%(channel)s::text IS NULL OR r.channel = %(channel)s)
), trail AS (  -- each report's state at %(as_of)s from its audit trail (skipped without as_of)
    SELECT e.report_id,
           (array_agg(e.to_status ORDER BY e.at DESC, e.id DESC) FILTER (WHERE e.at <= %(as_of)s))[1] AS status,
           max(e.at) FILTER (WHERE e.action = 'resolve' AND e.at <= %(as_of)s) AS resolved_at,
           (array_agg((e.details ->> 'rating')::int ORDER BY e.at DESC, e.id DESC)
               FILTER (WHERE e.details ? 'rating' AND e.at <= %(as_of)s))[1] AS rating,
           count(*) FILTER (WHERE e.action = 'reopen' AND e.at <= %(as_of)s) AS reopened_count,
           bool_or(e.action = 'approve_extension' AND e.at <= %(as_of)s) AS extended,
           -- an extension approved later had not yet moved the deadline
           min((e.details ->> 'previous_due_at')::timestamptz)
               FILTER (WHERE e.action = 'approve_extension' AND e.at > %(as_of)s) AS due_at
    FROM base b
    JOIN report_events e ON e.report_id = b.id
    WHERE %(as_of)s::timestamptz IS NOT NULL
    GROUP BY e.report_id
), state AS (  -- a report is resolved (since its last resolution) while resolved or closed
    SELECT b.key, b.received_at, coalesce(t.due_at, b.due_at) AS due_at,
           CASE WHEN %(as_of)s::timestamptz IS NULL THEN b.status ELSE coalesce(t.status, 'received') END AS status,
           CASE WHEN %(as_of)s::timestamptz IS NULL THEN b.resolved_at
                WHEN t.status IN ('resolved', 'closed') THEN t.resolved_at END AS resolved_at,
           CASE WHEN %(as_of)s::timestamptz IS NULL THEN b.extension_status
                WHEN t.extended THEN 'approved' END AS extension_status,
           CASE WHEN %(as_of)s::timestamptz IS NULL THEN b.rating ELSE t.rating END AS rating,
           CASE WHEN %(as_of)s::timestamptz IS NULL THEN b.reopened_count ELSE coalesce(t.reopened_count, 0) END
               AS reopened_count
    FROM base b
    LEFT JOIN trail t ON t.report_id = b.id
), r AS (
    SELECT *,
           status IN ('resolved', 'closed', 'rejected', 'duplicate') AS processed,
           resolved_at IS NOT NULL AS resolved,
           status IN ('received', 'assigned', 'in_progress', 'reopened') AS open,
           extract(epoch FROM resolved_at - received_at) / 3600.0 AS hours_to_resolve
    FROM state
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
       {month_columns}
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
