-- A unit's or department's open work, oldest deadline first, with the reporter for the handler.
SELECT r.code, r.category, r.status, r.priority, r.channel, r.admin_unit_code, r.responsible_level,
       r.department, r.received_at, r.due_at, r.escalated_at, r.extension_status, r.description,
       r.due_at < %(now)s AS overdue,
       json_build_object('lon', ST_X(r.geom), 'lat', ST_Y(r.geom)) AS location
FROM citizen_reports r
WHERE r.status IN ('received', 'assigned', 'in_progress', 'reopened')
  AND (%(unit)s::text IS NULL OR (r.responsible_level = 'ward' AND r.admin_unit_code = %(unit)s))
  AND (%(department)s::text IS NULL OR r.department = %(department)s)
  AND (%(status)s::text IS NULL OR r.status = %(status)s)
  AND (NOT %(overdue_only)s OR r.due_at < %(now)s)
ORDER BY r.due_at NULLS LAST, r.id
LIMIT %(limit)s OFFSET %(offset)s
