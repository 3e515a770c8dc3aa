-- A new feature from validated properties and a checked geometry (EWKB); its new id.
-- Placeholders: table, columns, values (%(p_<column>)s placeholders), id.
INSERT INTO {table} ({columns}, geom)
VALUES ({values}, ST_GeomFromEWKB(%(geom)s))
RETURNING {id}
