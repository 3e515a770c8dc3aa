-- A streaming replica's state: still in recovery (a standby), and how far it has replayed the WAL.
SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replay_lsn
