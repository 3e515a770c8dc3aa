-- One imported layer's registry entry, locked until the importing transaction ends.
SELECT id, title, title_vi, description, layer_group, geometry_type, columns, key_field, style,
       source, licence, created_by, created_at, updated_at
FROM imported_layers
WHERE id = %(id)s
FOR UPDATE
