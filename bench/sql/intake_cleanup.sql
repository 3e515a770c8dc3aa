-- Removes the reports bench runs filed (prefix 'bench-': every run); events and reporters cascade.
DELETE FROM citizen_reports WHERE idempotency_key LIKE %(prefix)s || '%%'
