-- Revoke a key from now on (kept for the audit trail).
UPDATE api_keys
SET revoked_at = now()
WHERE name = %(name)s AND revoked_at IS NULL
RETURNING name, role, created_at, revoked_at, last_used_at
