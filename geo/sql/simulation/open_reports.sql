-- Synthetic reports the simulated staff and citizens still have to act on, with what their next
-- step depends on: open ones, and resolved ones waiting for a rating or closing.
SELECT r.code, r.category, r.channel, r.status, r.received_at, r.resolved_at, r.extension_status, r.reopened_count,
       r.responsible_level, r.admin_unit_code, r.department,
       max(e.at) AS last_event_at,
       max(e.at) FILTER (WHERE e.action = 'reopen') AS reopened_at
  FROM citizen_reports r
  JOIN report_events e ON e.report_id = r.id
 WHERE r.synthetic AND r.status IN ('received', 'assigned', 'in_progress', 'reopened', 'resolved')
 GROUP BY r.id
 ORDER BY r.received_at, r.id
