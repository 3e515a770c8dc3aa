-- Time spent in each workflow stage per handler (the ward/commune, or the city department for
-- city-level categories), for reports received in [%(start)s, %(end)s). A report still in a stage
-- counts with its age so far, so work that piles up shows even before it leaves the stage.
-- The handler is the category's own (not the current one): an escalated report's slow stage
-- belongs to the unit that let it slip, not to the operations centre that received it late.
WITH r AS (
    SELECT r.*,
           CASE WHEN c.level = 'city' THEN c.department ELSE r.admin_unit_code END AS handler,
           CASE WHEN c.level = 'city' THEN 'department' ELSE u.level END AS handler_kind
    FROM citizen_reports r
    JOIN report_categories c ON c.code = r.category
    LEFT JOIN admin_units u ON u.code = r.admin_unit_code
    WHERE r.received_at >= %(start)s AND r.received_at < %(end)s
), stages AS (
    SELECT handler, handler_kind, 'received' AS stage, received_at AS entered,
           COALESCE(assigned_at, CASE WHEN status = 'received' THEN %(now)s END) AS left_at
    FROM r
    UNION ALL
    SELECT handler, handler_kind, 'assigned', assigned_at,
           COALESCE(started_at, CASE WHEN status = 'assigned' THEN %(now)s END)
    FROM r WHERE assigned_at IS NOT NULL
    UNION ALL
    SELECT handler, handler_kind, 'in_progress', started_at,
           COALESCE(resolved_at, CASE WHEN status = 'in_progress' THEN %(now)s END)
    FROM r WHERE started_at IS NOT NULL
)
SELECT handler, handler_kind, stage, count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM left_at - entered) / 3600.0) AS median_hours
FROM stages
WHERE handler IS NOT NULL AND left_at IS NOT NULL AND left_at >= entered
GROUP BY handler, handler_kind, stage
