-- A new staff account (the password is an argon2id hash).
INSERT INTO staff_users (username, password_hash, role, unit_code, department)
VALUES (%(username)s, %(password_hash)s, %(role)s, %(unit_code)s, %(department)s)
RETURNING username, role, unit_code, department, disabled, created_at
