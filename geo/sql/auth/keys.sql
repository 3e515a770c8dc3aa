-- Every API key, without hashes.
SELECT name, role, created_at, revoked_at, last_used_at
FROM api_keys
ORDER BY name
