-- The full audit trail of a report (actors included), for staff.
SELECT at, actor, action, from_status, to_status, note, details
FROM report_events
WHERE report_id = (SELECT id FROM citizen_reports WHERE code = %(code)s)
ORDER BY at, id
