-- The next CAP message of a zone (the caller holds the zone's row lock, so versions do not race).
INSERT INTO disaster_messages (zone_id, version, msg_type, identifier, actor, note)
SELECT %(id)s, v.version, %(msg_type)s, %(prefix)s || %(id)s || '-' || v.version, %(actor)s, %(note)s
  FROM (SELECT coalesce(max(version), 0) + 1 AS version FROM disaster_messages WHERE zone_id = %(id)s) AS v
RETURNING version, identifier, sent
