-- One expired warning zone per storm of storm_tracks that passed within %(max_km)s km of Huế: the
-- wards within the storm's reach of its track (tropical depression 100 km, storm 150 km, typhoon
-- 200 km), in force from 36 hours before its closest approach to 24 hours after.
WITH storms AS (
    SELECT s.*,
           CASE WHEN s.category_at_closest LIKE 'Cat%%' THEN 200 WHEN s.category_at_closest = 'TS' THEN 150
                ELSE 100 END AS reach_km,
           CASE WHEN s.category_at_closest LIKE 'Cat%%' THEN 'typhoon' ELSE 'tropical_storm' END AS hazard,
           CASE WHEN s.category_at_closest LIKE 'Cat%%' THEN 'Extreme' WHEN s.category_at_closest = 'TS' THEN 'Severe'
                ELSE 'Moderate' END AS severity,
           CASE WHEN s.category_at_closest LIKE 'Cat%%' THEN 'Bão mạnh' WHEN s.category_at_closest = 'TS' THEN 'Bão'
                ELSE 'Áp thấp nhiệt đới' END AS kind_vi,
           CASE WHEN s.category_at_closest LIKE 'Cat%%' THEN 'Typhoon' WHEN s.category_at_closest = 'TS'
                THEN 'Tropical storm' ELSE 'Tropical depression' END AS kind_en,
           round(coalesce(s.wind_at_closest_kt, s.peak_wind_kt, 25) * 0.514444)::int AS wind_ms
      FROM storm_tracks s
     WHERE s.closest_km <= %(max_km)s
), wards AS MATERIALIZED (  -- ~100 m coarser: a warning area, not a boundary; measured in metres (UTM 48N)
    SELECT code, ST_SimplifyPreserveTopology(geom, 0.001) AS geom,
           ST_Transform(ST_SimplifyPreserveTopology(geom, 0.001), 32648) AS utm
      FROM admin_units WHERE level <> 'city'
), reached AS (
    SELECT s.storm_id, ST_Multi(ST_Union(w.geom)) AS geom
      FROM storms s
      JOIN wards w ON ST_DWithin(w.utm, ST_Transform(s.geom, 32648), s.reach_km * 1000)
     GROUP BY s.storm_id
)
INSERT INTO disaster_zones (event, hazard, category, urgency, severity, certainty, status,
                            headline_vi, headline_en, instruction_vi, instruction_en,
                            onset, expires, source, synthetic, geom)
SELECT s.kind_en,
       s.hazard, 'Met', 'Expected', s.severity, 'Likely', 'Actual',
       format('%%s gần Huế ngày %%s: tâm cách %%s km, gió mạnh %%s m/s', s.kind_vi,
              to_char(s.closest_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'DD/MM/YYYY'),
              round(s.closest_km)::int, s.wind_ms),
       format('%%s near Huế on %%s: centre %%s km away, winds %%s m/s', s.kind_en,
              to_char(s.closest_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD'),
              round(s.closest_km)::int, s.wind_ms),
       'Neo đậu tàu thuyền, chằng chống nhà cửa, sơ tán người dân vùng trũng thấp và ven biển.',
       'Secure boats, brace houses, evacuate people from low-lying and coastal areas.',
       s.closest_at - interval '36 hours', s.closest_at + interval '24 hours', %(source)s, true, r.geom
  FROM storms s
  JOIN reached r USING (storm_id)
 ORDER BY s.closest_at
RETURNING id, onset, expires
