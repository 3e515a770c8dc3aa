-- Fill the choropleth layer from the one KPI query (analytics/kpis.sql), grouped by unit and month,
-- with the sums that make whole months add up (reopened, rating_sum, hours_to_resolve). Each unit's
-- polygon is its simplified one from kpi_unit_shapes.
INSERT INTO kpi_unit_month (
    unit_code, unit_name, level, month, population, received, processed, resolved, on_time,
    late_with_extension, late, rated, satisfied, backlog, overdue, processed_share, on_time_share,
    satisfied_share, mean_rating, median_hours_to_resolve, reports_per_10k, reopened, rating_sum,
    hours_to_resolve, geom)
SELECT u.code, u.name, u.level, to_date(split_part(k.key, '/', 2), 'YYYY-MM'), u.population,
       k.received, k.processed, k.resolved, k.on_time, k.late_with_extension, k.late, k.rated, k.satisfied,
       k.backlog, k.overdue, k.processed_share, k.on_time_share, k.satisfied_share, k.mean_rating,
       k.median_hours_to_resolve, k.received * 10000.0 / nullif(u.population, 0), k.reopened, k.rating_sum,
       k.hours_to_resolve, s.geom
FROM ({kpis}) k
JOIN admin_units u ON u.code = split_part(k.key, '/', 1)
JOIN kpi_unit_shapes s ON s.unit_code = u.code
