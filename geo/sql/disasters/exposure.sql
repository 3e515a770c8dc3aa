-- What lies inside a zone: points on the zone's boundary count (ST_Intersects, not ST_Within).
-- Ward shares are areas in EPSG:32648.
WITH z AS (
    SELECT geom, ST_Transform(geom, 32648) AS geom_m FROM disaster_zones WHERE id = %(id)s
)
SELECT
    (SELECT coalesce(json_agg(json_build_object(
                'id', h.id, 'name', h.name, 'facility_type', h.facility_type, 'beds', h.beds,
                'ward_code', h.ward_code, 'synthetic', h.synthetic, 'geometry', ST_AsGeoJSON(h.geom, 6)::json)
            ORDER BY h.id), '[]'::json)
       FROM health_facilities AS h, z WHERE ST_Intersects(z.geom, h.geom)) AS health_facilities,
    (SELECT coalesce(json_agg(json_build_object(
                'id', s.id, 'name', s.name, 'school_level', s.school_level, 'students', s.students,
                'ward_code', s.ward_code, 'synthetic', s.synthetic, 'geometry', ST_AsGeoJSON(s.geom, 6)::json)
            ORDER BY s.id), '[]'::json)
       FROM schools AS s, z WHERE ST_Intersects(z.geom, s.geom)) AS schools,
    (SELECT coalesce(json_agg(json_build_object(
                'id', t.id, 'name', t.name, 'name_vi', t.name_vi, 'kind', t.kind,
                'ward_code', t.ward_code, 'geometry', ST_AsGeoJSON(t.geom, 6)::json)
            ORDER BY t.id), '[]'::json)
       FROM tourism_sites AS t, z WHERE ST_Intersects(z.geom, t.geom)) AS tourism_sites,
    (SELECT coalesce(json_agg(json_build_object(
                'code', a.code, 'name', a.name, 'level', a.level, 'population', a.population,
                'share_of_area', round((ST_Area(ST_Intersection(ST_Transform(a.geom, 32648), z.geom_m))
                                        / ST_Area(ST_Transform(a.geom, 32648)))::numeric, 4))
            ORDER BY a.code), '[]'::json)
       FROM admin_units AS a, z WHERE a.level <> 'city' AND ST_Intersects(z.geom, a.geom)) AS wards,
    (SELECT coalesce(json_agg(json_build_object(
                'id', r.id, 'code', r.code, 'category', r.category, 'status', r.status, 'priority', r.priority,
                'received_at', r.received_at, 'admin_unit_code', r.admin_unit_code,
                'geometry', ST_AsGeoJSON(r.geom, 6)::json)
            ORDER BY r.received_at, r.id), '[]'::json)
       FROM citizen_reports AS r, z
      WHERE r.status = ANY(%(open_statuses)s) AND ST_Intersects(z.geom, r.geom)) AS open_reports
  FROM z
