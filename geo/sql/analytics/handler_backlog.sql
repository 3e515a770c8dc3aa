-- Open and overdue work per handler as of %(now)s, and the backlog at %(start)s for growth.
WITH r AS (
    SELECT r.*,
           CASE WHEN r.responsible_level = 'city' THEN r.department ELSE r.admin_unit_code END AS handler,
           CASE WHEN r.responsible_level = 'city' THEN 'department' ELSE u.level END AS handler_kind
    FROM citizen_reports r
    LEFT JOIN admin_units u ON u.code = r.admin_unit_code
    WHERE r.received_at < %(now)s
)
SELECT handler, handler_kind,
       count(*) FILTER (WHERE status IN ('received', 'assigned', 'in_progress', 'reopened')) AS open_now,
       count(*) FILTER (WHERE status IN ('received', 'assigned', 'in_progress', 'reopened')
                              AND due_at < %(now)s) AS overdue,
       count(*) FILTER (WHERE received_at < %(start)s AND status NOT IN ('rejected', 'duplicate')
                              AND (resolved_at IS NULL OR resolved_at >= %(start)s)) AS open_at_start
FROM r
WHERE handler IS NOT NULL
GROUP BY handler, handler_kind
