-- Reports as Open311 service requests: public columns only (no reporter, no free-text description).
-- Ids, when given, override every other filter (as the spec says). Newest first.
SELECT r.code, r.category, c.name_vi AS service_name_vi, c.name_en AS service_name_en, c.sla_hours,
       r.status, r.result_note, dup.code AS duplicate_of, r.responsible_level,
       u.name AS unit_name, d.name_vi AS department_name_vi, d.name_en AS department_name_en,
       r.received_at, r.updated_at, r.due_at, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat,
       cardinality(r.photos) AS photo_count, media.url AS media_url
FROM citizen_reports r
JOIN report_categories c ON c.code = r.category
LEFT JOIN admin_units u ON u.code = r.admin_unit_code
LEFT JOIN departments d ON d.code = r.department
LEFT JOIN citizen_reports dup ON dup.id = r.duplicate_of
LEFT JOIN LATERAL (
    SELECT e.details ->> 'media_url' AS url
    FROM report_events e
    WHERE e.report_id = r.id AND e.action = 'add_details' AND e.details ? 'media_url'
    ORDER BY e.id DESC
    LIMIT 1
) media ON true
WHERE CASE WHEN %(ids)s::text[] IS NOT NULL THEN r.code = ANY(%(ids)s::text[])
      ELSE (%(services)s::text[] IS NULL OR r.category = ANY(%(services)s::text[]))
       AND (%(start)s::timestamptz IS NULL OR r.received_at >= %(start)s)
       AND (%(end)s::timestamptz IS NULL OR r.received_at <= %(end)s)
       AND (%(statuses)s::text[] IS NULL OR r.status = ANY(%(statuses)s::text[]))
      END
ORDER BY r.received_at DESC, r.id DESC
LIMIT %(limit)s OFFSET %(offset)s
