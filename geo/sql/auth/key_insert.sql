-- A new API key: only its SHA-256 is stored; the plaintext is shown once.
INSERT INTO api_keys (name, key_hash, role)
VALUES (%(name)s, %(key_hash)s, %(role)s)
RETURNING name, role, created_at, revoked_at, last_used_at
