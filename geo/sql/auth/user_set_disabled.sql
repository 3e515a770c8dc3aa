-- Disable (or enable again) an account: a disabled account is refused at once, tokens included.
UPDATE staff_users
SET disabled = %(disabled)s
WHERE username = %(username)s
RETURNING username, role, unit_code, department, disabled, created_at
