-- One category with its routing and SLA rules.
SELECT code, name_vi, name_en, level, department, sla_hours, duplicate_radius_m, duplicate_window_days
FROM report_categories
WHERE code = %(code)s
