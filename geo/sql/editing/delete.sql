-- Remove a feature. Placeholders: table, id.
DELETE FROM {table} WHERE {id} = %(id)s
