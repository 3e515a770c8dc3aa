-- Of %(units)s, those kpi_unit_shapes has no polygon for (a unit new since the last rebuild).
SELECT code FROM admin_units u
WHERE u.code = ANY (%(units)s::text[]) AND u.level <> 'city'
  AND NOT EXISTS (SELECT 1 FROM kpi_unit_shapes s WHERE s.unit_code = u.code)
