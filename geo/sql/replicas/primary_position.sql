-- Where the primary's WAL ends now: a write committed before this call is at or before it.
SELECT pg_current_wal_lsn()::text AS lsn
