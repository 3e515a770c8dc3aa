-- One modelled flood scenario with its extent as GeoJSON (full precision: rounding could break validity).
SELECT return_period_years, name, name_vi, stage_m, ST_AsGeoJSON(geom)::json AS geometry
  FROM flood_scenarios
 WHERE return_period_years = %(rp)s
