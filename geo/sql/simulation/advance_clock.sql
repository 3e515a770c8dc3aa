-- The simulator has written everything before %(until)s.
UPDATE simulation_clock SET simulated_until = %(until)s, updated_at = now()
 WHERE id = 1 AND simulated_until < %(until)s
