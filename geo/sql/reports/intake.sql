-- A citizen's report filed in one statement (one round trip, one implicit transaction): look up
-- the category and the ward/commune covering the point, route, insert the report, its reporter
-- (when given) and its first audit event, and find open reports that are probably the same problem.
-- Nothing is written when the category is unknown, its SLA is not the one %(due_at)s was computed
-- with (the catalogue changed: the caller retries), the point is outside every unit, or the
-- Idempotency-Key was used before (the caller then answers with the first report).
WITH point AS (
    SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g
), category AS (
    SELECT code, level, department, sla_hours, duplicate_radius_m, duplicate_window_days
    FROM report_categories
    WHERE code = %(category)s
), unit AS (
    SELECT u.code, u.name, u.level
    FROM admin_units u, point p
    WHERE u.level <> 'city' AND ST_Covers(u.geom, p.g)
    ORDER BY u.code  -- deterministic on a shared boundary
    LIMIT 1
), route AS (
    SELECT u.code AS admin_unit_code, u.name AS admin_unit_name,
           CASE WHEN c.level = 'city' THEN 'city' ELSE 'ward' END AS responsible_level,
           CASE WHEN c.level = 'city' THEN c.department END AS department
    FROM category c, unit u
    WHERE c.sla_hours = %(sla_hours)s
), report AS (
    INSERT INTO citizen_reports (
        code, category, description, channel, status, admin_unit_code, responsible_level, department,
        received_at, due_at, photos, idempotency_key, synthetic, geom)
    SELECT %(code)s, %(category)s, %(description)s, %(channel)s, 'received', r.admin_unit_code, r.responsible_level,
           r.department, %(received_at)s, %(due_at)s, %(photos)s, %(idempotency_key)s, %(synthetic)s, p.g
    FROM route r, point p
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, code, status, category, priority, responsible_level, department, received_at, due_at
), reporter AS (
    INSERT INTO reporters (report_id, full_name, phone, email, device_id)
    SELECT id, %(full_name)s::text, %(phone)s::text, %(email)s::text, %(device_id)s::text
    FROM report
    WHERE num_nonnulls(%(full_name)s::text, %(phone)s::text, %(email)s::text, %(device_id)s::text) > 0
), event AS (
    INSERT INTO report_events (report_id, at, actor, action, from_status, to_status, note, details)
    SELECT rep.id, %(received_at)s, 'citizen:' || %(channel)s, 'receive', NULL, 'received',
           'Routed to ' || r.admin_unit_name || coalesce(' / ' || r.department, ''),
           jsonb_build_object('routed_to', coalesce(r.department, r.admin_unit_code),
                              'admin_unit_code', r.admin_unit_code, 'admin_unit_name', r.admin_unit_name,
                              'responsible_level', r.responsible_level, 'department', r.department)
    FROM report rep, route r
), duplicates AS (
    SELECT d.code, d.category, d.status, d.received_at,
           round(ST_Distance(d.geom::geography, p.g::geography))::int AS distance_m
    FROM citizen_reports d, point p, category c
    WHERE d.category = c.code
      AND d.status IN ('received', 'assigned', 'in_progress', 'reopened')
      AND d.received_at >= %(received_at)s::timestamptz - make_interval(days => c.duplicate_window_days)
      -- A box of the radius in degrees first (the GiST index), then the exact distance in metres.
      AND d.geom && ST_Expand(p.g, c.duplicate_radius_m / (111000.0 * greatest(cos(radians(%(lat)s)), 0.01)))
      AND ST_DWithin(d.geom::geography, p.g::geography, c.duplicate_radius_m)
    ORDER BY distance_m, d.received_at DESC
    LIMIT 5
)
SELECT c.sla_hours AS category_sla_hours, u.code AS unit_code,
       rep.id, rep.code, rep.status, rep.category, rep.priority, rep.responsible_level, rep.department,
       rep.received_at, rep.due_at,
       json_build_object('code', u.code, 'name', u.name, 'level', u.level) AS admin_unit,
       (SELECT coalesce(json_agg(d), '[]'::json) FROM duplicates d) AS duplicates
FROM (SELECT 1) AS one
LEFT JOIN category c ON true
LEFT JOIN unit u ON true
LEFT JOIN report rep ON true
