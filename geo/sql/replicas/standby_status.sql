-- What `huegis db replica status` shows of a standby: receiver state, replay position and lag.
-- Lag in seconds is 0 when everything received is replayed (an idle primary), else the age of
-- the last replayed transaction.
SELECT pg_is_in_recovery() AS standby,
       (SELECT status FROM pg_stat_wal_receiver) AS receiver,
       pg_last_wal_replay_lsn()::text AS replay_lsn,
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag_s
