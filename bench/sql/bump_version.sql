-- Invalidates the tile cache of a layer the way any committed change does: the statement trigger
-- bumps its layer_versions row even though no row is deleted.
DELETE FROM {table} WHERE false
