-- Lock a feature's row for the rest of the transaction (a concurrent writer waits).
-- Placeholders: table, id.
SELECT 1 FROM {table} WHERE {id} = %(id)s FOR UPDATE
