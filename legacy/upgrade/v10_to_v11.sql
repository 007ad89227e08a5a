-- In-place upgrade from v10 to v11: analysis_runs.scenario_id is added LAST.
ALTER TABLE analysis_runs ADD COLUMN scenario_id TEXT NOT NULL DEFAULT 'baseline';
