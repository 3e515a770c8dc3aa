-- The level of an administrative unit (city, ward, commune): is a code a ward or commune?
SELECT level FROM admin_units WHERE code = %(code)s
