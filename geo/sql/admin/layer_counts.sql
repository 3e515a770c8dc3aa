-- Rows per layer as last loaded (cheap: no table scans).
SELECT layer_id, rows, loaded_at FROM layer_loads ORDER BY layer_id
