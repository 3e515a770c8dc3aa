-- One call on the 1900 1075 hotline, linked to the report it filed or concerns (or none); synthetic when
-- the simulator made it (layers/simulator.py).
INSERT INTO hotline_calls (direction, started_at, duration_s, operator, caller_phone, report_id, note, synthetic)
VALUES (%(direction)s, %(started_at)s, %(duration_s)s, %(operator)s, %(caller_phone)s, %(report_id)s, %(note)s,
        %(synthetic)s)
RETURNING id
