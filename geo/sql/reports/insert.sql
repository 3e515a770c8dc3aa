-- A new report. A repeated Idempotency-Key inserts nothing (the caller then reads the first one).
INSERT INTO citizen_reports (
    code, category, description, channel, status, admin_unit_code, responsible_level, department,
    received_at, due_at, photos, idempotency_key, synthetic, geom)
VALUES (
    %(code)s, %(category)s, %(description)s, %(channel)s, 'received', %(admin_unit_code)s, %(responsible_level)s,
    %(department)s, %(received_at)s, %(due_at)s, %(photos)s, %(idempotency_key)s, %(synthetic)s,
    ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id, code
