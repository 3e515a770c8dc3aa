-- Per handler and category (the category's own handler, as in bottleneck_dwell.sql): reports
-- received in the window [%(start)s, %(now)s) and how many of them are open and overdue at
-- %(now)s; open and overdue work of any age at %(now)s; the open backlog at %(start)s for growth.
WITH r AS (
    SELECT r.*,
           CASE WHEN c.level = 'city' THEN c.department ELSE r.admin_unit_code END AS handler,
           CASE WHEN c.level = 'city' THEN 'department' ELSE u.level END AS handler_kind,
           r.status IN ('received', 'assigned', 'in_progress', 'reopened') AS open
    FROM citizen_reports r
    JOIN report_categories c ON c.code = r.category
    LEFT JOIN admin_units u ON u.code = r.admin_unit_code
    WHERE r.received_at < %(now)s
)
SELECT handler, handler_kind, category,
       count(*) FILTER (WHERE received_at >= %(start)s AND status NOT IN ('rejected', 'duplicate')) AS received,
       count(*) FILTER (WHERE received_at >= %(start)s AND open AND due_at < %(now)s) AS recent_overdue,
       count(*) FILTER (WHERE open) AS open_now,
       count(*) FILTER (WHERE open AND due_at < %(now)s) AS overdue,
       count(*) FILTER (WHERE received_at < %(start)s AND status NOT IN ('rejected', 'duplicate')
                              AND (resolved_at IS NULL OR resolved_at >= %(start)s)) AS open_at_start
FROM r
WHERE handler IS NOT NULL
GROUP BY handler, handler_kind, category
