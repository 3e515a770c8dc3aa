-- Lock one report for a workflow step.
SELECT r.id, r.code, r.status, r.category, r.admin_unit_code, r.responsible_level, r.department, r.due_at,
       r.received_at, r.extension_status, r.extension_hours, r.rating, r.reopened_count, r.escalated_at,
       c.department AS category_department
FROM citizen_reports r
JOIN report_categories c ON c.code = r.category
WHERE r.code = %(code)s
FOR UPDATE OF r
