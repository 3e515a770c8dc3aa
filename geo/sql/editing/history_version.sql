-- One recorded change of a feature.
SELECT version, action, before, after
  FROM feature_history
 WHERE layer_id = %(layer)s AND feature_id = %(feature)s AND version = %(version)s
