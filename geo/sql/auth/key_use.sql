-- The live key with this hash, marked as used now (unique index on key_hash, one row).
UPDATE api_keys
SET last_used_at = now()
WHERE key_hash = %(key_hash)s AND revoked_at IS NULL
RETURNING name, role
