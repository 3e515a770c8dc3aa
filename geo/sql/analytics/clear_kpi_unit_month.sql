-- Before a refresh: every row, or the months from %(since)s on.
DELETE FROM kpi_unit_month WHERE %(since)s::date IS NULL OR month >= %(since)s
