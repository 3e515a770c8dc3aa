-- The exact number of rows matching a page's filter (a scalar subquery of items.sql).
-- Placeholders: table, where.
(SELECT count(*) FROM {table} WHERE {where})
