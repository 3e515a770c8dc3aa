-- Every staff account, without password hashes.
SELECT username, role, unit_code, department, disabled, created_at
FROM staff_users
ORDER BY username
