-- Rewrite the conflicts layer now (the triggers of migration 0016 do it on every change).
SELECT huegis_refresh_planning_conflicts()
