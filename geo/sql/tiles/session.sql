-- Tile statements run without JIT (60-70 ms compiling a z12 tile) and without parallel workers
-- (~25 ms to start one): both cost more than the query. Local to the current transaction, so an
-- external database configured otherwise keeps its settings for other work.
SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)
