-- After a rebuild of the months from %(since)s (else from the first report's) to %(end_month)s
-- (exclusive): they are complete, and every write this repeatable-read snapshot saw in them is
-- accounted for. Marks committed after the snapshot are invisible here, so they stay for the job.
WITH built AS (
    INSERT INTO kpi_months AS m (month, built_at)
    SELECT generate_series(coalesce(%(since)s::date, (
               SELECT date_trunc('month', min(received_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
               FROM citizen_reports)), %(end_month)s::date - 1, interval '1 month')::date, %(now)s
    ON CONFLICT (month) DO UPDATE SET built_at = excluded.built_at
)
DELETE FROM kpi_dirty_months
WHERE (%(since)s::date IS NULL OR month >= %(since)s) AND month < %(end_month)s
