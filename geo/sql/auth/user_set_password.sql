-- Replace an account's password hash.
UPDATE staff_users
SET password_hash = %(password_hash)s
WHERE username = %(username)s
RETURNING username
