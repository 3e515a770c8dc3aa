-- Staged rows that passed validation into the layer (new rows: the layer numbers them).
INSERT INTO {table} ({columns})
SELECT {values} FROM import_stage s
WHERE s.rejected IS NULL AND {rows}
ORDER BY s.row_no
