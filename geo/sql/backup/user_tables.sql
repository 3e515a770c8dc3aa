-- The platform's own tables (not the catalogue's, not an extension's such as spatial_ref_sys),
-- each with its primary key columns in key order (empty when it has none).
SELECT n.nspname AS schema,
       c.relname AS name,
       coalesce(
           (SELECT array_agg(a.attname ORDER BY k.ord)
            FROM pg_constraint p
            CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k (attnum, ord)
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
            WHERE p.conrelid = c.oid AND p.contype = 'p'),
           '{}') AS primary_key
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
