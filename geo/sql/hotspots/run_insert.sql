INSERT INTO hotspot_runs (actor, period, cell_m, report_category, params, study, backtest, chosen_model)
VALUES (%(actor)s, %(period)s, %(cell_m)s, %(report_category)s, %(params)s, %(study)s, %(backtest)s, %(chosen_model)s)
RETURNING id, created_at
