-- What a map page says about an overlay it fetches only when switched on: how many features the
-- overlay draws ({where}, as in features.sql) and the table's columns (its tooltip fields).
SELECT (SELECT count(*) FROM {table} AS src WHERE {where}),
       (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
        WHERE attrelid = %(table)s::regclass AND attnum > 0 AND NOT attisdropped)
