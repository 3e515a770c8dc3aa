-- The CAP messages issued for a zone, oldest first.
SELECT version, msg_type, identifier, sent, actor, note
  FROM disaster_messages
 WHERE zone_id = %(id)s
 ORDER BY version
