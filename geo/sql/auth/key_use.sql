-- The live key with this hash; its last use is written at most once a minute (a write per
-- machine request would queue every request of a busy client on this one row).
WITH key AS (
    SELECT id, name, role, last_used_at FROM api_keys WHERE key_hash = %(key_hash)s AND revoked_at IS NULL
), used AS (
    UPDATE api_keys SET last_used_at = now()
    FROM key
    WHERE api_keys.id = key.id AND (key.last_used_at IS NULL OR key.last_used_at < now() - interval '1 minute')
)
SELECT name, role FROM key
