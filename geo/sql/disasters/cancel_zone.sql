-- Cancel a zone from now on.
UPDATE disaster_zones SET cancelled_at = now(), updated_at = now() WHERE id = %(id)s RETURNING cancelled_at
