-- In-place upgrade from v13 to v14: scenario_nodes.short_action is added LAST.
ALTER TABLE scenario_nodes ADD COLUMN short_action TEXT;
