-- The report a call is about, by its public code.
SELECT id, code, channel
FROM citizen_reports
WHERE code = %(code)s
