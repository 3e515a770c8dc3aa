-- One row per report and workflow stage for the reports received in [%(since)s, %(now)s), times in
-- days before %(now)s: when the report came in, when it entered the stage and when it left it (NULL:
-- still running at %(now)s). The detector measures each stage as seen at any cut-off it needs (a
-- stage running then counts with its age so far), so a window and the year before it are judged alike.
-- The handler is the category's own (not the current one): an escalated report's slow stage
-- belongs to the unit that let it slip, not to the operations centre that received it late.
-- A stage that never ended and is not the report's status (abandoned) is left out.
WITH r AS (
    SELECT r.category, r.status, r.received_at, r.assigned_at, r.started_at, r.resolved_at,
           CASE WHEN c.level = 'city' THEN c.department ELSE r.admin_unit_code END AS handler,
           CASE WHEN c.level = 'city' THEN 'department' ELSE u.level END AS handler_kind
    FROM citizen_reports r
    JOIN report_categories c ON c.code = r.category
    LEFT JOIN admin_units u ON u.code = r.admin_unit_code
    WHERE r.received_at >= %(since)s AND r.received_at < %(now)s
      AND r.status NOT IN ('rejected', 'duplicate')
), stages AS (
    SELECT handler, handler_kind, category, received_at, 'received' AS stage,
           received_at AS entered, assigned_at AS left_at, status = 'received' AS still_there
    FROM r
    UNION ALL
    SELECT handler, handler_kind, category, received_at, 'assigned', assigned_at, started_at, status = 'assigned'
    FROM r WHERE assigned_at IS NOT NULL
    UNION ALL
    SELECT handler, handler_kind, category, received_at, 'in_progress', started_at, resolved_at,
           status = 'in_progress'
    FROM r WHERE started_at IS NOT NULL
)
SELECT handler, handler_kind, category, stage,
       (extract(epoch FROM %(now)s::timestamptz - received_at) / 86400.0)::float8 AS received_ago,
       (extract(epoch FROM %(now)s::timestamptz - entered) / 86400.0)::float8 AS entered_ago,
       CASE WHEN left_at < %(now)s
            THEN (extract(epoch FROM %(now)s::timestamptz - greatest(left_at, entered)) / 86400.0)::float8
       END AS left_ago
FROM stages
WHERE handler IS NOT NULL AND entered < %(now)s AND (left_at IS NOT NULL OR still_there)
