-- Ward/commune polygons in metres (UTM 48N), for the simplified shapes of kpi_unit_month.
SELECT code, ST_AsBinary(ST_Transform(geom, 32648))
  FROM admin_units
 WHERE level <> 'city'
 ORDER BY code
