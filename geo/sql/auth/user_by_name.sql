-- One account by its unique username: checked on every request (unique index, one row).
SELECT username, password_hash, role, unit_code, department, disabled, token_version
FROM staff_users
WHERE username = %(username)s
