-- The registry entry of a layer an import creates.
INSERT INTO imported_layers (id, title, title_vi, description, layer_group, geometry_type, columns, key_field,
                             style, source, licence, created_by)
VALUES (%(id)s, %(title)s, %(title_vi)s, %(description)s, %(layer_group)s, %(geometry_type)s, %(columns)s,
        %(key_field)s, %(style)s, %(source)s, %(licence)s, %(created_by)s)
