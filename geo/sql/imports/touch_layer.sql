-- An import into an imported layer: its registry entry says when the data last changed.
UPDATE imported_layers SET updated_at = now() WHERE id = %(id)s
