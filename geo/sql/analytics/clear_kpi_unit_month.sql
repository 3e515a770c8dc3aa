-- Before a rebuild: every row, or the months from %(since)s on (which stop counting as built until
-- the rebuild commits); with %(units)s, only those units' rows of the month %(since)s (refreshing the
-- unit-months a write touched: the month stays built).
WITH forgotten AS (
    DELETE FROM kpi_months
    WHERE %(units)s::text[] IS NULL AND (%(since)s::date IS NULL OR month >= %(since)s)
)
DELETE FROM kpi_unit_month
WHERE (%(since)s::date IS NULL OR month >= %(since)s)
  AND (%(units)s::text[] IS NULL OR (month = %(since)s AND unit_code = ANY (%(units)s::text[])))
