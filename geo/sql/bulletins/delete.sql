-- The previous generated bulletins (their messages go with them: ON DELETE CASCADE).
DELETE FROM disaster_zones WHERE synthetic AND source = %(source)s
