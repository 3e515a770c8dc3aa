-- What a bottleneck detection sees: the citizen_reports layer version (bumped by every change to the
-- table, in the writer's transaction) and the newest report event.
SELECT coalesce((SELECT version FROM layer_versions WHERE layer_id = 'citizen_reports'), 0) AS reports_version,
       (SELECT max(id) FROM report_events) AS last_event_id
