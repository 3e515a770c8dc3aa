-- One step of the audit trail.
INSERT INTO report_events (report_id, at, actor, action, from_status, to_status, note, details)
VALUES (%(report_id)s, %(at)s, %(actor)s, %(action)s, %(from_status)s, %(to_status)s, %(note)s, %(details)s)
