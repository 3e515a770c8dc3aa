-- Calls started in [start, end), newest first, optionally one direction (staff only: callers' phones).
SELECT c.id, c.direction, c.started_at, c.duration_s, c.operator, c.caller_phone, r.code AS report_code,
       c.note, c.synthetic
FROM hotline_calls c
LEFT JOIN citizen_reports r ON r.id = c.report_id
WHERE c.started_at >= %(start)s
  AND c.started_at < %(end)s
  AND (%(direction)s::text IS NULL OR c.direction = %(direction)s)
ORDER BY c.started_at DESC, c.id DESC
LIMIT %(limit)s OFFSET %(offset)s
