-- Record one change of a feature as its next version (the caller holds the feature's row lock,
-- or the feature is new); its version and time.
WITH change AS (
    SELECT CAST(%(layer)s AS text) AS layer_id, CAST(%(feature)s AS text) AS feature_id
)
INSERT INTO feature_history (layer_id, feature_id, version, action, actor, role, before, after, restored_from, note)
SELECT c.layer_id, c.feature_id,
       (SELECT coalesce(max(h.version), 0) + 1 FROM feature_history h
         WHERE h.layer_id = c.layer_id AND h.feature_id = c.feature_id),
       %(action)s, %(actor)s, %(role)s, %(before)s, %(after)s, %(restored_from)s, %(note)s
  FROM change AS c
RETURNING version, at
