-- The KPIs of analytics/kpis.sql for a period of whole months [%(start)s, %(end)s) (the months
-- [%(first_month)s, %(end_month)s)), summed from kpi_unit_month instead of scanning the reports.
-- Exact, not estimated: counts add up over months; shares and the mean rating are ratios of sums;
-- the percentiles are taken over every resolved report's stored hours; backlog and overdue (which
-- depend on %(now)s) are counted on the period's open reports (a partial index).
-- Answered only when the table holds every month of the period complete (ready): each built, none
-- written since (kpi_dirty_months), and every report of the period in a unit the table has (a unit
-- with a polygon). Otherwise no rows and ready false: the caller asks analytics/kpis.sql.
-- One statement, one snapshot: the check and the sums see the same writes.
WITH ready AS (
    SELECT (SELECT count(*) FROM kpi_months WHERE month >= %(first_month)s AND month < %(end_month)s) = %(months)s
       AND NOT EXISTS (SELECT 1 FROM kpi_dirty_months WHERE month >= %(first_month)s AND month < %(end_month)s)
       AND NOT EXISTS (SELECT 1 FROM citizen_reports r
                       WHERE r.admin_unit_code IS NULL AND r.received_at >= %(start)s AND r.received_at < %(end)s)
       AND NOT EXISTS (SELECT 1 FROM admin_units a
                       WHERE NOT EXISTS (SELECT 1 FROM kpi_unit_shapes s WHERE s.unit_code = a.code)
                         AND EXISTS (SELECT 1 FROM citizen_reports r
                                     WHERE r.admin_unit_code = a.code
                                       AND r.received_at >= %(start)s AND r.received_at < %(end)s)) AS ok
), m AS NOT MATERIALIZED (  -- read twice (sums, hours), each time only its columns
    SELECT {month_key} AS key, m.received, m.processed, m.resolved, m.on_time, m.late_with_extension, m.late,
           m.rated, m.satisfied, m.rating_sum, m.reopened, m.hours_to_resolve
    FROM kpi_unit_month m
    WHERE (SELECT ok FROM ready)
      AND m.month >= %(first_month)s AND m.month < %(end_month)s
      AND (%(unit)s::text IS NULL OR m.unit_code = %(unit)s)
      AND (%(level)s::text IS NULL OR m.level = %(level)s)
), sums AS (
    SELECT key,
           sum(received) AS received,
           sum(processed) AS processed,
           sum(resolved) AS resolved,
           sum(on_time) AS on_time,
           sum(late_with_extension) AS late_with_extension,
           sum(late) AS late,
           sum(rated) AS rated,
           sum(satisfied) AS satisfied,
           -- avg(rating) is sum / count in numeric: the same division gives the same value
           (sum(rating_sum)::numeric / nullif(sum(rated), 0)::numeric)::float8 AS mean_rating,
           sum(reopened) AS reopened
    FROM m
    GROUP BY key
), hours AS (
    SELECT key,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY h) AS median_hours_to_resolve,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY h) AS p90_hours_to_resolve
    FROM m, unnest(m.hours_to_resolve) AS h
    GROUP BY key
), open AS (  -- the period's open reports now: backlog, overdue and their ages as of %(now)s
    SELECT {group_key} AS key,
           count(*) AS backlog,
           count(*) FILTER (WHERE r.due_at < %(now)s) AS overdue,
           count(*) FILTER (WHERE %(now)s - r.received_at < interval '1 day') AS backlog_under_1d,
           count(*) FILTER (WHERE %(now)s - r.received_at >= interval '1 day'
                              AND %(now)s - r.received_at < interval '7 days') AS backlog_1_to_7d,
           count(*) FILTER (WHERE %(now)s - r.received_at >= interval '7 days'
                              AND %(now)s - r.received_at < interval '30 days') AS backlog_7_to_30d,
           count(*) FILTER (WHERE %(now)s - r.received_at >= interval '30 days') AS backlog_over_30d
    FROM citizen_reports r
    LEFT JOIN admin_units u ON u.code = r.admin_unit_code
    WHERE (SELECT ok FROM ready)
      AND r.status IN ('received', 'assigned', 'in_progress', 'reopened')
      AND r.received_at >= %(start)s AND r.received_at < %(end)s
      AND (%(unit)s::text IS NULL OR r.admin_unit_code = %(unit)s)
      AND (%(level)s::text IS NULL OR u.level = %(level)s)
    GROUP BY 1
), k AS (
    SELECT s.key, s.received, s.processed, s.resolved, s.on_time, s.late_with_extension, s.late,
           h.median_hours_to_resolve, h.p90_hours_to_resolve, s.rated, s.satisfied, s.mean_rating, s.reopened,
           coalesce(o.backlog, 0) AS backlog, coalesce(o.overdue, 0) AS overdue,
           coalesce(o.backlog_under_1d, 0) AS backlog_under_1d, coalesce(o.backlog_1_to_7d, 0) AS backlog_1_to_7d,
           coalesce(o.backlog_7_to_30d, 0) AS backlog_7_to_30d, coalesce(o.backlog_over_30d, 0) AS backlog_over_30d
    FROM sums s
    LEFT JOIN hours h ON h.key = s.key
    LEFT JOIN open o ON o.key = s.key
)
SELECT ready.ok AS ready, k.*,
       processed::float8 / nullif(received, 0) AS processed_share,
       on_time::float8 / nullif(resolved, 0) AS on_time_share,
       late_with_extension::float8 / nullif(resolved, 0) AS late_with_extension_share,
       late::float8 / nullif(resolved, 0) AS late_share,
       satisfied::float8 / nullif(rated, 0) AS satisfied_share,
       reopened::float8 / nullif(received, 0) AS reopened_share
FROM ready
LEFT JOIN k ON ready.ok
ORDER BY k.key NULLS FIRST
