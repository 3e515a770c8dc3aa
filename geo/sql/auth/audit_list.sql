-- The audit log, newest first, optionally for one object type and id.
SELECT id, at, actor, role, action, object_type, object_id, details
FROM audit_log
WHERE (%(object_type)s::text IS NULL OR object_type = %(object_type)s)
  AND (%(object_id)s::text IS NULL OR object_id = %(object_id)s)
ORDER BY at DESC, id DESC
LIMIT %(limit)s
