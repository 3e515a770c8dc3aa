-- One page of a layer as the text of a GeoJSON features array, with the layer's change tag and
-- the exact number of matching rows, unless the caller's cached count is still under this tag
-- (%(known)s; the count subquery is then never run): one statement, one snapshot.
-- Features are built outside the LIMIT subquery, so rows skipped by OFFSET are never serialised.
-- Placeholders: feature (feature.sql), columns (what it reads), properties (page.<name>, ...),
-- table, where, order, tag (the change tag subquery), count (count.sql).
SELECT
    {tag} AS version,
    CASE WHEN {tag} = %(known)s THEN NULL ELSE {count} END AS matched,
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
