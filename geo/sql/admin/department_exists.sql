-- Whether a city department exists (account scopes, reroutes, escalations).
SELECT 1 FROM departments WHERE code = %(code)s
