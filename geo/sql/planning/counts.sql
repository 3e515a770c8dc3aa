-- The conflicts layer by subject and verdict.
SELECT subject_type, verdict, count(*) AS features
  FROM planning_conflicts
 GROUP BY subject_type, verdict
 ORDER BY subject_type, verdict
