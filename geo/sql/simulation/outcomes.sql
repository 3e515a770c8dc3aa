-- How generated reports went, to replay on simulated ones: up to %(per_category)s finished synthetic
-- reports per category received in [%(since)s, %(until)s), each with its events in order.
WITH finished AS (
    SELECT r.id, r.category, r.received_at,
           row_number() OVER (PARTITION BY r.category ORDER BY r.received_at DESC) AS n
      FROM citizen_reports r
     WHERE r.synthetic AND r.status IN ('closed', 'rejected')
       AND r.received_at >= %(since)s AND r.received_at < %(until)s
)
SELECT f.category, f.received_at,
       json_agg(json_build_object('action', e.action, 'at', e.at, 'note', e.note, 'details', e.details)
                ORDER BY e.at, e.id) AS events
  FROM finished f
  JOIN report_events e ON e.report_id = f.id
 WHERE f.n <= %(per_category)s
 GROUP BY f.id, f.category, f.received_at
 ORDER BY f.category, f.received_at
