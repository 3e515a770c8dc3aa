-- An upsert's staged rows whose key is already in the layer (they update it; the others are inserted).
UPDATE import_stage s SET existed = EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = s.{key})
WHERE s.rejected IS NULL
