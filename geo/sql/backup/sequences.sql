-- The platform's sequences (not an extension's) with the value the next nextval() continues from.
SELECT schemaname AS schema, sequencename AS name, last_value
FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
