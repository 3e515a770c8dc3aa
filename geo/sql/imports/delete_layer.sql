-- Forget an imported layer (its table is dropped in the same transaction).
DELETE FROM imported_layers WHERE id = %(id)s RETURNING id
