-- Categories as Open311 services (all of them, or the one named), in catalogue order.
SELECT code, name_vi, name_en, description_vi, description_en, group_name, keywords, sla_hours, attributes
FROM report_categories
WHERE %(code)s::text IS NULL OR code = %(code)s
ORDER BY sort_order, code
