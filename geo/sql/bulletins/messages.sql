-- The zones' CAP message history: an Alert when the zone comes into force, then an Update every
-- %(every_h)s hours until it expires (bulletins are issued on a fixed rhythm while a storm nears).
INSERT INTO disaster_messages (zone_id, version, msg_type, identifier, sent, actor, note)
SELECT z.id, b.n, CASE WHEN b.n = 1 THEN 'Alert' ELSE 'Update' END,
       %(prefix)s || z.id || '-' || b.n, b.sent, %(actor)s,
       format('Bản tin số %%s / Bulletin %%s', b.n, b.n)
  FROM disaster_zones z
 CROSS JOIN LATERAL (
     SELECT row_number() OVER (ORDER BY t) AS n, t AS sent
       FROM generate_series(z.onset, z.expires - interval '1 second', make_interval(hours => %(every_h)s)) AS t
 ) b
 WHERE z.id = ANY(%(ids)s)
