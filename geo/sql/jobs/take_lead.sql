-- Become the leader of the named job group if no other session is: a session advisory lock,
-- released by PostgreSQL when this connection ends (the process died or lost the database).
SELECT pg_try_advisory_lock(hashtextextended(%(name)s, 0)) AS leader
