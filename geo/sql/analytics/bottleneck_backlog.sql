-- Per handler and category (the category's own handler, as in bottleneck_stages.sql): reports
-- received in the window [%(start)s, %(now)s), how many of them are open and overdue at %(now)s,
-- open and overdue work of any age at %(now)s, and the open backlog at %(start)s. "Open at T" is
-- read from the timestamps (received before T, not resolved by T; rejected and duplicate reports
-- never count), so an earlier %(now)s sees the backlog as it was then.
WITH o AS (
    SELECT r.received_at, r.due_at, r.resolved_at, r.category,
           CASE WHEN c.level = 'city' THEN c.department ELSE r.admin_unit_code END AS handler,
           CASE WHEN c.level = 'city' THEN 'department' ELSE u.level END AS handler_kind,
           r.resolved_at IS NULL OR r.resolved_at >= %(now)s AS open_now
    FROM citizen_reports r
    JOIN report_categories c ON c.code = r.category
    LEFT JOIN admin_units u ON u.code = r.admin_unit_code
    WHERE r.received_at < %(now)s AND r.status NOT IN ('rejected', 'duplicate')
)
SELECT handler, handler_kind, category,
       count(*) FILTER (WHERE received_at >= %(start)s) AS received,
       count(*) FILTER (WHERE received_at >= %(start)s AND open_now AND due_at < %(now)s) AS recent_overdue,
       count(*) FILTER (WHERE open_now) AS open_now,
       count(*) FILTER (WHERE open_now AND due_at < %(now)s) AS overdue,
       count(*) FILTER (WHERE received_at < %(start)s AND (resolved_at IS NULL OR resolved_at >= %(start)s))
           AS open_at_start
FROM o
WHERE handler IS NOT NULL
GROUP BY handler, handler_kind, category
