-- The level of an administrative unit (city, ward, commune), to check an account's scope.
SELECT level FROM admin_units WHERE code = %(code)s
