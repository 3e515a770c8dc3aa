-- Per handler (the category's own, as in bottleneck_stages.sql) and step k = 0 … %(steps)s: the reports
-- that fell overdue in the %(days)s days before T = %(now)s - k·%(days)s days and were still open at T,
-- read from the timestamps (rejected and duplicate reports never count). Step 0 is the latest period;
-- the others give the handler's usual pace, so a stock of long-stuck reports does not hide a new pile-up.
WITH r AS (
    SELECT r.received_at, r.due_at, r.resolved_at,
           CASE WHEN c.level = 'city' THEN c.department ELSE r.admin_unit_code END AS handler
    FROM citizen_reports r
    JOIN report_categories c ON c.code = r.category
    WHERE r.due_at >= %(now)s::timestamptz - (%(steps)s + 1) * %(days)s * interval '1 day'
      AND r.due_at < %(now)s AND r.status NOT IN ('rejected', 'duplicate')
), cuts AS (
    SELECT k, %(now)s::timestamptz - k * %(days)s * interval '1 day' AS t
    FROM generate_series(0, %(steps)s) AS k
)
SELECT r.handler, cuts.k,
       count(*) FILTER (WHERE r.due_at >= cuts.t - %(days)s * interval '1 day' AND r.due_at < cuts.t
                          AND (r.resolved_at IS NULL OR r.resolved_at >= cuts.t))::int AS fell_overdue
FROM r CROSS JOIN cuts
WHERE r.handler IS NOT NULL
GROUP BY r.handler, cuts.k
