-- The latest hot-spot run (none yet: NULLs) and whether a session is computing one now (holds the run lock).
SELECT r.id AS latest_run, r.created_at,
       EXISTS (
           SELECT 1 FROM pg_locks l
           WHERE l.locktype = 'advisory' AND l.granted
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('huegis-hotspot-run', 0)
       ) AS computing
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT id, created_at FROM hotspot_runs ORDER BY created_at DESC, id DESC LIMIT 1) AS r ON true
