-- An upsert's rows whose key is not in the layer are inserted.
INSERT INTO {table} ({columns})
SELECT {values} FROM import_stage s
WHERE s.rejected IS NULL AND NOT s.existed AND {rows}
ORDER BY s.row_no
