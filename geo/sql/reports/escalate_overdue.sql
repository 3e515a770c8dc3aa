-- Every open report past its deadline and not yet escalated goes to the city level
-- (the category's department, or the operations centre for ward-level categories),
-- and the decision is written to the audit trail.
WITH overdue AS (
    UPDATE citizen_reports r
    SET escalated_at = %(now)s,
        responsible_level = 'city',
        department = COALESCE(r.department, c.department, %(fallback)s),
        updated_at = %(now)s
    FROM report_categories c
    WHERE c.code = r.category
      AND r.status IN ('received', 'assigned', 'in_progress', 'reopened')
      AND r.escalated_at IS NULL
      AND r.due_at < %(now)s
    RETURNING r.id, r.status, r.department
)
INSERT INTO report_events (report_id, at, actor, action, from_status, to_status, note, details)
SELECT id, %(now)s, 'system', 'auto_escalate', status, status, 'Deadline passed: escalated to the city level',
       jsonb_build_object('department', department)
FROM overdue
RETURNING report_id
