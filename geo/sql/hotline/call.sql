-- One call with the code of its report (staff only: carries the caller's phone).
SELECT c.id, c.direction, c.started_at, c.duration_s, c.operator, c.caller_phone, r.code AS report_code,
       c.note, c.synthetic
FROM hotline_calls c
LEFT JOIN citizen_reports r ON r.id = c.report_id
WHERE c.id = %(id)s
