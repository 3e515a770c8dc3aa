-- Whether any open report is past its deadline and not yet escalated (the predicate of
-- escalate_overdue.sql): checked first because an UPDATE of no rows still fires the statement
-- trigger that bumps the layer's version, which would invalidate every tile and count cache.
SELECT EXISTS (
    SELECT 1
    FROM citizen_reports r
    WHERE r.status IN ('received', 'assigned', 'in_progress', 'reopened')
      AND r.escalated_at IS NULL
      AND r.due_at < %(now)s
) AS overdue
