-- Calls in and out per day or month of Huế time over [start, end), every period listed (zeros
-- included), and how many calls became reports: a call became a report when it is the first call
-- linked to a report filed on the hotline channel (later calls about it are follow-ups).
WITH periods AS (
    SELECT generate_series(
        date_trunc(%(by)s, %(start)s::timestamptz AT TIME ZONE 'Asia/Ho_Chi_Minh'),
        (%(end)s::timestamptz - interval '1 microsecond') AT TIME ZONE 'Asia/Ho_Chi_Minh',
        ('1 ' || %(by)s)::interval
    ) AS period
),
calls AS (
    SELECT date_trunc(%(by)s, c.started_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS period,
           c.direction,
           (r.channel = 'hotline'
            AND NOT EXISTS (SELECT 1 FROM hotline_calls e WHERE e.report_id = c.report_id AND e.id < c.id))
               AS became_report
    FROM hotline_calls c
    LEFT JOIN citizen_reports r ON r.id = c.report_id
    WHERE c.started_at >= %(start)s
      AND c.started_at < %(end)s
)
SELECT p.period::date AS period,
       count(c.direction) FILTER (WHERE c.direction = 'in') AS calls_in,
       count(c.direction) FILTER (WHERE c.direction = 'out') AS calls_out,
       count(c.direction) AS calls,
       count(c.direction) FILTER (WHERE c.became_report) AS became_reports
FROM periods p
LEFT JOIN calls c ON c.period = p.period
GROUP BY p.period
ORDER BY p.period
