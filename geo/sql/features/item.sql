-- One feature by id as GeoJSON text, with its neighbours in id order (pygeoapi's prev/next links).
-- Placeholders: feature (feature.sql), columns, properties (page.<name>, ...), table, id.
SELECT
    {feature} AS feature,
    (SELECT {id} FROM {table} WHERE {id} < %(id)s ORDER BY {id} DESC LIMIT 1) AS prev,
    (SELECT {id} FROM {table} WHERE {id} > %(id)s ORDER BY {id} LIMIT 1) AS next
FROM (SELECT {columns} FROM {table} WHERE {id} = %(id)s) AS page
CROSS JOIN LATERAL (SELECT {properties}) AS props
