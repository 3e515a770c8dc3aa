-- The reports the intake scenario filed, by the Idempotency-Key prefix of this run.
SELECT idempotency_key, code FROM citizen_reports WHERE idempotency_key LIKE %(prefix)s || '%%'
