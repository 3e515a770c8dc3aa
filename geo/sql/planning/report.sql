-- The planning check of a citizen report's location (huegis_planning_report, migration 0016):
-- zone, parcel, the nearest live permit within 50 m and the verdicts.
SELECT c.*
  FROM citizen_reports r
 CROSS JOIN LATERAL huegis_planning_report(r.geom) AS c
 WHERE r.code = %(code)s
