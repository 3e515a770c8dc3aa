-- Every imported layer's registry entry, oldest first (the order they are published in).
SELECT id, title, title_vi, description, layer_group, geometry_type, columns, key_field, style,
       source, licence, created_by, created_at, updated_at
FROM imported_layers
ORDER BY created_at, id
