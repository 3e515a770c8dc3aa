-- Change an account's role and scope.
UPDATE staff_users
SET role = %(role)s, unit_code = %(unit_code)s, department = %(department)s
WHERE username = %(username)s
RETURNING username, role, unit_code, department, disabled, created_at
