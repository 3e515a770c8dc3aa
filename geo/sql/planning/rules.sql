-- The rule table, zone type by zone type.
SELECT zone_type, subject, use, verdict, note
  FROM planning_rules
 ORDER BY zone_type, subject, verdict, use
