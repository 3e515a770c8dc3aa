-- The unit-months written since they were last computed (what this repeatable-read snapshot sees;
-- marks committed later stay for the next run), taken off the list: one row per month with its units.
-- Months never built are dropped without work (no request reads them from kpi_unit_month).
WITH taken AS (
    DELETE FROM kpi_dirty_months RETURNING unit_code, month
)
SELECT t.month, array_agg(DISTINCT t.unit_code) FILTER (WHERE t.unit_code IS NOT NULL) AS units
FROM taken t
JOIN kpi_months m ON m.month = t.month
GROUP BY t.month
ORDER BY t.month
