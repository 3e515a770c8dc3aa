-- One period's flags, replacing what the period held.
INSERT INTO bottleneck_results AS b (key, at, window_days, running, computed_at, seconds, reports_version,
                                     last_event_id, flags)
VALUES (%(key)s, %(at)s, %(window_days)s, %(running)s, now(), %(seconds)s, %(reports_version)s,
        %(last_event_id)s, %(flags)s)
ON CONFLICT (key) DO UPDATE
SET at = excluded.at, window_days = excluded.window_days, running = excluded.running,
    computed_at = excluded.computed_at, seconds = excluded.seconds, reports_version = excluded.reports_version,
    last_event_id = excluded.last_event_id, flags = excluded.flags
