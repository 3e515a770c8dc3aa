-- Take the hot-spot run lock on this session (false: another session is computing a run). A session
-- advisory lock: PostgreSQL releases it when the connection ends, whatever happened to the process.
SELECT pg_try_advisory_lock(hashtextextended('huegis-hotspot-run', 0)) AS taken
