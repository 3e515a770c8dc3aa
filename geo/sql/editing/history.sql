-- Every recorded change of one feature, oldest first.
SELECT version, action, actor, role, at, before, after, restored_from, note
  FROM feature_history
 WHERE layer_id = %(layer)s AND feature_id = %(feature)s
 ORDER BY version
