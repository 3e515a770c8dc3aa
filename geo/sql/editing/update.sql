-- Change a feature: the given columns (and the geometry when given), stamped now.
-- Placeholders: table, assignments (column = %(p_<column>)s, ...), id.
UPDATE {table}
   SET {assignments}, updated_at = now()
 WHERE {id} = %(id)s
