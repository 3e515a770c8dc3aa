-- A report's public timeline (staff names are shown as roles, not people).
SELECT at, action, from_status, to_status, note
FROM report_events
WHERE report_id = %(report_id)s
ORDER BY at, id
