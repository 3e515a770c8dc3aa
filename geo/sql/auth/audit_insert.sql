-- One staff action outside the report workflow (report actions are in report_events).
INSERT INTO audit_log (actor, role, action, object_type, object_id, details)
VALUES (%(actor)s, %(role)s, %(action)s, %(object_type)s, %(object_id)s, %(details)s)
RETURNING id, at
