-- Whether a city department exists, to check an account's scope.
SELECT 1 FROM departments WHERE code = %(code)s
