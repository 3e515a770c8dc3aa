-- An upsert's rows whose key is in the layer replace that feature's attributes and geometry.
UPDATE {table} t SET ({columns}, updated_at) = ({values}, now())
FROM import_stage s
WHERE s.rejected IS NULL AND s.existed AND t.{key} = s.{key} AND {rows}
