-- The planner's estimate of the rows matching a page's filter ("Plan Rows" of the top node):
-- statistics only, no row read. Placeholders: table, where.
EXPLAIN (FORMAT JSON) SELECT FROM {table} WHERE {where}
