-- The living city's clock (one row, written by the history loader and the simulator).
SELECT history_until, simulated_until FROM simulation_clock WHERE id = 1
