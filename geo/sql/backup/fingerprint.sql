-- Row count and checksum of one table: md5 over the md5 of each row's text in {order} order.
-- A row's text shows geometry as hex EWKB; the caller fixes the session's time zone and styles.
SELECT count(*) AS rows, md5(coalesce(string_agg(md5(t::text), '' ORDER BY {order}), '')) AS md5
FROM {table} AS t
