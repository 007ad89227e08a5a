-- In-place upgrade from v12 to v13: explorations and scenario_nodes are created as at v13
-- (scenario_nodes without short_action, which v14 adds).
CREATE TABLE IF NOT EXISTS explorations (
  id TEXT PRIMARY KEY CHECK (id GLOB 'expl_[a-f0-9][a-f0-9][a-f0-9][a-f0-9][a-f0-9][a-f0-9][a-f0-9][a-f0-9]'),
  experiment_id TEXT NOT NULL REFERENCES experiments (id),
  baseline_analysis_id TEXT NOT NULL REFERENCES analysis_runs (id),
  goal TEXT NOT NULL CHECK (json_valid(goal)),
  config TEXT NOT NULL CHECK (json_valid(config)),
  status TEXT NOT NULL DEFAULT 'running'
    CHECK (status IN ('running','goal_achieved','depth_limit_reached','cost_limit_reached','no_viable_paths')),
  current_depth INTEGER NOT NULL DEFAULT 0 CHECK (current_depth >= 0),
  total_nodes INTEGER NOT NULL DEFAULT 0 CHECK (total_nodes >= 0),
  total_llm_calls INTEGER NOT NULL DEFAULT 0 CHECK (total_llm_calls >= 0),
  best_success_rate REAL CHECK (best_success_rate IS NULL OR (best_success_rate BETWEEN 0 AND 1)),
  started_at TEXT NOT NULL,
  completed_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_explorations_experiment ON explorations (experiment_id);
CREATE INDEX IF NOT EXISTS idx_explorations_status ON explorations (status);

CREATE TABLE IF NOT EXISTS scenario_nodes (
  id TEXT PRIMARY KEY CHECK (id GLOB 'node_[a-f0-9][a-f0-9][a-f0-9][a-f0-9][a-f0-9][a-f0-9][a-f0-9][a-f0-9]'),
  exploration_id TEXT NOT NULL REFERENCES explorations (id) ON DELETE CASCADE,
  parent_id TEXT REFERENCES scenario_nodes (id),
  depth INTEGER NOT NULL CHECK (depth >= 0),
  action_applied TEXT,
  action_category TEXT,
  rationale TEXT,
  scorecard_params TEXT NOT NULL CHECK (json_valid(scorecard_params)),
  simulation_results TEXT CHECK (simulation_results IS NULL OR json_valid(simulation_results)),
  execution_time_seconds REAL CHECK (execution_time_seconds IS NULL OR execution_time_seconds >= 0),
  node_status TEXT NOT NULL DEFAULT 'active' CHECK (node_status IN ('active','dominated','winner','expansion_failed')),
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_scenario_nodes_exploration ON scenario_nodes (exploration_id);
CREATE INDEX IF NOT EXISTS idx_scenario_nodes_parent ON scenario_nodes (parent_id);
CREATE INDEX IF NOT EXISTS idx_scenario_nodes_status ON scenario_nodes (exploration_id, node_status);
CREATE INDEX IF NOT EXISTS idx_scenario_nodes_depth ON scenario_nodes (exploration_id, depth);
