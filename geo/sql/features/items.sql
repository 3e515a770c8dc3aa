-- One page of a layer as the text of a GeoJSON features array, with the layer's change tag, the
-- exact number of matching rows and the page's greatest primary key (the next page's "after").
-- The count is left out (NULL) when the caller says not to count (%(count)s false: too many rows
-- expected) or its cached count is still under this tag (%(known)s); the count subquery is then
-- never run: one statement, one snapshot.
-- Features are built outside the LIMIT subquery, so rows skipped by OFFSET are never serialised.
-- Placeholders: feature (feature.sql), columns (what it reads), properties (page.<name>, ...),
-- table, where (the page's: with the key condition), order, key (the primary key column),
-- tag (the change tag subquery), count (count.sql: the filter without the key condition).
SELECT
    {tag} AS version,
    CASE WHEN NOT %(count)s OR {tag} = %(known)s THEN NULL ELSE {count} END AS matched,
    count(*) AS returned,
    coalesce(string_agg({feature}, ','), '') AS features,
    max(page.{key})::text AS last
FROM (
    SELECT {columns}
    FROM {table}
    WHERE {where}
    ORDER BY {order}
    LIMIT %(limit)s OFFSET %(offset)s
) AS page
CROSS JOIN LATERAL (SELECT {properties}) AS props
