-- The rule table from %(rules)s (a JSON array of rows), after its old rows were deleted.
INSERT INTO planning_rules (zone_type, subject, use, verdict, note)
SELECT zone_type, subject, use, verdict, note
  FROM jsonb_to_recordset(%(rules)s) AS x(zone_type text, subject text, use text, verdict text, note text)
