-- Hours each report spent in each workflow stage, one row per report and stage, for reports
-- received in the window [%(start)s, %(now)s) (recent = true) and in the year before it
-- [%(history_start)s, %(start)s) (recent = false). Each period is seen as of its own end: a stage
-- still running then counts with its age so far (work that piles up shows before it leaves the
-- stage) and a longer one is cut there, so both periods are measured alike.
-- The handler is the category's own (not the current one): an escalated report's slow stage
-- belongs to the unit that let it slip, not to the operations centre that received it late.
WITH r AS (
    SELECT r.category, r.status, r.received_at, r.assigned_at, r.started_at, r.resolved_at,
           CASE WHEN c.level = 'city' THEN c.department ELSE r.admin_unit_code END AS handler,
           CASE WHEN c.level = 'city' THEN 'department' ELSE u.level END AS handler_kind,
           r.received_at >= %(start)s AS recent,
           CASE WHEN r.received_at >= %(start)s THEN %(now)s ELSE %(start)s END::timestamptz AS period_end
    FROM citizen_reports r
    JOIN report_categories c ON c.code = r.category
    LEFT JOIN admin_units u ON u.code = r.admin_unit_code
    WHERE r.received_at >= %(history_start)s AND r.received_at < %(now)s
      AND r.status NOT IN ('rejected', 'duplicate')
), stages AS (
    SELECT handler, handler_kind, category, recent, period_end, 'received' AS stage,
           received_at AS entered, assigned_at AS left_at, status = 'received' AS still_there
    FROM r
    UNION ALL
    SELECT handler, handler_kind, category, recent, period_end, 'assigned', assigned_at, started_at, status = 'assigned'
    FROM r WHERE assigned_at IS NOT NULL
    UNION ALL
    SELECT handler, handler_kind, category, recent, period_end, 'in_progress', started_at, resolved_at,
           status = 'in_progress'
    FROM r WHERE started_at IS NOT NULL
)
SELECT handler, handler_kind, category, stage, recent,
       (extract(epoch FROM least(coalesce(left_at, period_end), period_end) - entered) / 3600.0)::float8 AS hours
FROM stages
WHERE handler IS NOT NULL AND entered < period_end AND (left_at IS NOT NULL OR still_there)
  AND coalesce(left_at, period_end) >= entered
