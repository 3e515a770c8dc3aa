-- The natural key of an imported layer (upsert target): unique, so a key names one feature.
CREATE UNIQUE INDEX {index} ON {table} ({key})
