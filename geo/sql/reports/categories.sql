-- The catalogue as clients show it.
SELECT c.code, c.name_vi, c.name_en, c.description_vi, c.description_en, c.group_name, c.keywords,
       c.level, c.department, d.name_vi AS department_name_vi, d.name_en AS department_name_en,
       c.sla_hours, c.duplicate_radius_m, c.duplicate_window_days, c.attributes
FROM report_categories c
LEFT JOIN departments d ON d.code = c.department
ORDER BY c.sort_order, c.code
