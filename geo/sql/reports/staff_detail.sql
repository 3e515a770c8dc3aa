-- Everything about one report for the staff who handle it, reporter included.
SELECT r.code, r.category, r.description, r.channel, r.status, r.priority, r.admin_unit_code,
       r.responsible_level, r.department, r.received_at, r.due_at, r.assigned_at, r.started_at,
       r.resolved_at, r.closed_at, r.escalated_at, r.extension_status, r.extension_hours,
       r.result_note, r.rating, r.rating_comment, r.reopened_count, r.photos,
       json_build_object('lon', ST_X(r.geom), 'lat', ST_Y(r.geom)) AS location,
       CASE WHEN p.id IS NULL THEN NULL ELSE
           json_build_object('full_name', p.full_name, 'phone', p.phone, 'email', p.email) END AS reporter
FROM citizen_reports r
LEFT JOIN reporters p ON p.report_id = r.id
WHERE r.code = %(code)s
