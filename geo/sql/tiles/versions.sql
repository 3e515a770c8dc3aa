-- The change counter of every tracked layer (bumped by the layer_version_bump triggers).
SELECT layer_id, version, changed_at FROM layer_versions
