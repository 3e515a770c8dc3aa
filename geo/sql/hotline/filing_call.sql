-- The call that filed a report: the first call linked to it (a retried filing returns this one).
SELECT id
FROM hotline_calls
WHERE report_id = (SELECT id FROM citizen_reports WHERE code = %(code)s)
ORDER BY id
LIMIT 1
