-- Text output that does not depend on the session: fingerprints compare across servers.
SELECT set_config('TimeZone', 'UTC', false),
       set_config('DateStyle', 'ISO, YMD', false),
       set_config('IntervalStyle', 'postgres', false),
       set_config('extra_float_digits', '1', false),
       set_config('bytea_output', 'hex', false)
