-- What an Open311 client sent beyond our report fields (attribute answers, media_url, address_string),
-- kept on the audit trail of the report it created; the status does not change.
INSERT INTO report_events (report_id, at, actor, action, from_status, to_status, note, details)
SELECT id, %(at)s, 'citizen:open311', 'add_details', status, status, %(note)s, %(details)s
FROM citizen_reports
WHERE code = %(code)s
