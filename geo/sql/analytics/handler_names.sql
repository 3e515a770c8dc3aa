-- Display names of every handler: wards/communes and city departments.
SELECT code AS handler, name AS name_vi, name_ascii AS name_en FROM admin_units WHERE level <> 'city'
UNION ALL
SELECT code, name_vi, name_en FROM departments
