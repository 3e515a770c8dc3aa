-- The public view of one report: no reporter identity, no free-text description.
SELECT r.id, r.code, r.category, c.name_vi AS category_name_vi, c.name_en AS category_name_en,
       r.channel, r.status, r.priority,
       json_build_object('code', u.code, 'name', u.name, 'level', u.level) AS admin_unit,
       r.responsible_level, r.department, d.name_vi AS department_name_vi, d.name_en AS department_name_en,
       r.received_at, r.due_at, r.resolved_at, r.closed_at, r.escalated_at, r.extension_status,
       r.result_note, r.rating, r.reopened_count, dup.code AS duplicate_of, r.photos,
       json_build_object('lon', ST_X(r.geom), 'lat', ST_Y(r.geom)) AS location
FROM citizen_reports r
JOIN report_categories c ON c.code = r.category
LEFT JOIN admin_units u ON u.code = r.admin_unit_code
LEFT JOIN departments d ON d.code = r.department
LEFT JOIN citizen_reports dup ON dup.id = r.duplicate_of
WHERE r.code = %(code)s
