-- One page of a layer as the text of a GeoJSON features array, with the layer's change tag and,
-- when matched is the count subquery, the exact number of matching rows: one snapshot.
-- Features are built outside the LIMIT subquery, so rows skipped by OFFSET are never serialised.
-- Placeholders: feature (feature.sql), columns (what it reads), properties (page.<name>, ...),
-- table, where, order, matched (count.sql or NULL).
SELECT
    (SELECT version || '.' || extract(epoch FROM changed_at) FROM layer_versions WHERE layer_id = %(layer)s) AS version,
    {matched} AS matched,
    count(*) AS returned,
    coalesce(string_agg({feature}, ','), '') AS features
FROM (
    SELECT {columns}
    FROM {table}
    WHERE {where}
    ORDER BY {order}
    LIMIT %(limit)s OFFSET %(offset)s
) AS page
CROSS JOIN LATERAL (SELECT {properties}) AS props
