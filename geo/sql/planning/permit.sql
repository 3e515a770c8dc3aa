-- The planning check of one construction permit (huegis_planning_permit, migration 0016).
SELECT p.permit_no, p.project_name, p.permit_type, p.building_use, p.status, p.ward_code,
       json_build_object('lon', ST_X(p.geom), 'lat', ST_Y(p.geom)) AS location, c.*
  FROM construction_permits p
 CROSS JOIN LATERAL huegis_planning_permit(p.geom, p.building_use) AS c
 WHERE p.permit_no = %(permit_no)s
