-- A report's public timeline: time, action and status of each step; no actors and no free text but
-- the result written for the public when a report is resolved or rejected (staff notes, extension
-- reasons and rating comments may name people: they are in the staff trail only).
SELECT at, action, from_status, to_status,
       CASE WHEN action IN ('resolve', 'reject') THEN note END AS note
FROM report_events
WHERE report_id = %(report_id)s
ORDER BY at, id
