-- Zones active at %(at)s with one CAP status, each with its latest CAP message: the Atom index.
SELECT z.id, z.event, z.hazard, z.severity, z.urgency, z.certainty, z.status,
       z.headline_vi, z.headline_en, z.onset, z.expires,
       m.identifier, m.sent, m.msg_type
  FROM disaster_zones AS z
  JOIN LATERAL (
        SELECT identifier, sent, msg_type FROM disaster_messages
         WHERE zone_id = z.id ORDER BY version DESC LIMIT 1
       ) AS m ON true
 WHERE z.onset <= %(at)s AND %(at)s < z.expires
   AND (z.cancelled_at IS NULL OR %(at)s < z.cancelled_at)
   AND z.status = %(status)s
 ORDER BY m.sent DESC, z.id
