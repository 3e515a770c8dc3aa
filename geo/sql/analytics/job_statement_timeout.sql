-- A background job's statement timeout (ms, as text; 0: none) for the rest of its transaction only:
-- the pooled connection keeps the requests' limit.
SELECT set_config('statement_timeout', %(ms)s, true)
