-- How much work the generated history's staff did per weekday (0 = Monday) and hour of day (Huế time)
-- in [%(start)s, %(end)s), per action: what the simulated staff can do in the same hour of a week.
SELECT e.action,
       extract(isodow FROM e.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int - 1 AS weekday,
       extract(hour FROM e.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int AS hour,
       count(*) AS events
  FROM report_events e
  JOIN citizen_reports r ON r.id = e.report_id
 WHERE r.synthetic AND e.at >= %(start)s AND e.at < %(end)s AND e.action = ANY(%(actions)s)
 GROUP BY 1, 2, 3
