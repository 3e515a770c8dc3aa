-- Staff work in [%(a)s, %(b)s) (Huế time): resolutions, assignments and closings a day, the busiest hour of
-- staff steps, the staff steps outside office hours (Mon-Fri 07:00-17:00), and the reports received before
-- %(end)s (the history's end) still open now.
WITH steps AS (
    SELECT e.action, e.at AT TIME ZONE 'Asia/Ho_Chi_Minh' AS local
      FROM report_events e
     WHERE e.at >= %(a)s AND e.at < %(b)s AND e.action NOT IN ('receive', 'rate', 'reopen', 'auto_escalate')
), hours AS (
    SELECT date_trunc('hour', local) AS hour, count(*) AS steps FROM steps GROUP BY 1
)
SELECT round(count(*) FILTER (WHERE action = 'resolve') / %(days)s::numeric, 1) AS resolve_a_day,
       round(count(*) FILTER (WHERE action = 'assign') / %(days)s::numeric, 1) AS assign_a_day,
       round(count(*) FILTER (WHERE action = 'close') / %(days)s::numeric, 1) AS close_a_day,
       (SELECT max(steps) FROM hours) AS busiest_hour_steps,
       (SELECT hour FROM hours ORDER BY steps DESC, hour LIMIT 1) AS busiest_hour,
       count(*) FILTER (WHERE extract(hour FROM local) NOT BETWEEN 7 AND 16 OR extract(isodow FROM local) > 5)
           AS off_hours_steps,
       (SELECT count(*) FROM citizen_reports
         WHERE status IN ('received', 'assigned', 'in_progress', 'reopened') AND received_at < %(end)s) AS history_open_now
  FROM steps
