-- Legacy store, schema version 9, as the legacy application created a NEW file at that version.
-- Derived from legacy_v15.sql (../shared/legacy_v15.sql) and docs/legacy-schema.md: v10 without experiments.status and idx_experiments_status (added in v10).
-- Not a supported layout on its own: the base that files upgraded in place started from.
PRAGMA foreign_keys=ON;

CREATE TABLE experiments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL CHECK (length(name) <= 100),
  hypothesis TEXT NOT NULL CHECK (length(hypothesis) <= 500),
  description TEXT CHECK (length(description) <= 2000),
  scorecard_data TEXT CHECK (scorecard_data IS NULL OR json_valid(scorecard_data)),
  created_at TEXT NOT NULL,
  updated_at TEXT
);
CREATE INDEX idx_experiments_created ON experiments (created_at DESC);
CREATE INDEX idx_experiments_name ON experiments (name);

CREATE TABLE analysis_runs (
  id TEXT PRIMARY KEY,
  experiment_id TEXT NOT NULL UNIQUE REFERENCES experiments (id) ON DELETE CASCADE,
  config TEXT NOT NULL CHECK (json_valid(config)),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','running','completed','failed')),
  started_at TEXT NOT NULL,
  completed_at TEXT,
  total_synths INTEGER DEFAULT 0,
  aggregated_outcomes TEXT CHECK (aggregated_outcomes IS NULL OR json_valid(aggregated_outcomes)),
  execution_time_seconds REAL
);
CREATE INDEX idx_analysis_runs_experiment ON analysis_runs (experiment_id);
CREATE INDEX idx_analysis_runs_status ON analysis_runs (status);

CREATE TABLE synth_outcomes (
  id TEXT PRIMARY KEY,
  analysis_id TEXT NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
  synth_id TEXT NOT NULL,
  did_not_try_rate REAL NOT NULL,
  failed_rate REAL NOT NULL,
  success_rate REAL NOT NULL,
  synth_attributes TEXT CHECK (json_valid(synth_attributes)),
  UNIQUE (analysis_id, synth_id)
);
CREATE INDEX idx_outcomes_analysis ON synth_outcomes (analysis_id);

CREATE TABLE synth_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_synth_groups_created ON synth_groups (created_at DESC);

CREATE TABLE synths (
  id TEXT PRIMARY KEY,
  synth_group_id TEXT REFERENCES synth_groups (id),
  nome TEXT NOT NULL,
  descricao TEXT,
  link_photo TEXT,
  avatar_path TEXT,
  created_at TEXT NOT NULL,
  version TEXT DEFAULT '2.0.0',
  data TEXT CHECK (data IS NULL OR json_valid(data))
);
CREATE INDEX idx_synths_created_at ON synths (created_at DESC);
CREATE INDEX idx_synths_nome ON synths (nome);
CREATE INDEX idx_synths_group ON synths (synth_group_id);

CREATE TABLE research_executions (
  exec_id TEXT PRIMARY KEY,
  experiment_id TEXT REFERENCES experiments (id) ON DELETE SET NULL,
  topic_name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending','running','generating_summary','completed','failed')),
  synth_count INTEGER NOT NULL DEFAULT 0,
  successful_count INTEGER DEFAULT 0,
  failed_count INTEGER DEFAULT 0,
  model TEXT DEFAULT 'gpt-4o-mini',
  max_turns INTEGER DEFAULT 6,
  started_at TEXT NOT NULL,
  completed_at TEXT,
  additional_context TEXT
);
CREATE INDEX idx_executions_topic ON research_executions (topic_name);
CREATE INDEX idx_executions_status ON research_executions (status);
CREATE INDEX idx_executions_started ON research_executions (started_at DESC);
CREATE INDEX idx_executions_experiment ON research_executions (experiment_id);

CREATE TABLE transcripts (
  id TEXT PRIMARY KEY,
  exec_id TEXT NOT NULL REFERENCES research_executions (exec_id) ON DELETE CASCADE,
  synth_id TEXT NOT NULL,
  synth_name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  turn_count INTEGER DEFAULT 0,
  timestamp TEXT NOT NULL,
  messages TEXT CHECK (json_valid(messages)),
  UNIQUE (exec_id, synth_id)
);
CREATE INDEX idx_transcripts_exec ON transcripts (exec_id);
CREATE INDEX idx_transcripts_synth ON transcripts (synth_id);

CREATE TABLE interview_guide (
  experiment_id TEXT PRIMARY KEY REFERENCES experiments (id) ON DELETE CASCADE,
  context_definition TEXT,
  questions TEXT,
  context_examples TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT
);

CREATE TABLE feature_scorecards (
  id TEXT PRIMARY KEY,
  experiment_id TEXT REFERENCES experiments (id),
  data TEXT NOT NULL CHECK (json_valid(data)),
  created_at TEXT NOT NULL,
  updated_at TEXT
);
CREATE INDEX idx_scorecards_created ON feature_scorecards (created_at DESC);
CREATE INDEX idx_scorecards_experiment ON feature_scorecards (experiment_id);

CREATE TABLE simulation_runs (
  id TEXT PRIMARY KEY,
  scorecard_id TEXT NOT NULL REFERENCES feature_scorecards (id),
  scenario_id TEXT NOT NULL,
  config TEXT NOT NULL CHECK (json_valid(config)),
  status TEXT NOT NULL CHECK (status IN ('pending','running','completed','failed')),
  started_at TEXT NOT NULL,
  completed_at TEXT,
  total_synths INTEGER DEFAULT 0,
  aggregated_outcomes TEXT CHECK (aggregated_outcomes IS NULL OR json_valid(aggregated_outcomes)),
  execution_time_seconds REAL
);
CREATE INDEX idx_simulations_scorecard ON simulation_runs (scorecard_id);
CREATE INDEX idx_simulations_status ON simulation_runs (status);

CREATE TABLE region_analyses (
  id TEXT PRIMARY KEY,
  simulation_id TEXT NOT NULL REFERENCES simulation_runs (id),
  rules TEXT NOT NULL CHECK (json_valid(rules)),
  rule_text TEXT NOT NULL,
  synth_count INTEGER NOT NULL,
  synth_percentage REAL NOT NULL,
  did_not_try_rate REAL NOT NULL,
  failed_rate REAL NOT NULL,
  success_rate REAL NOT NULL,
  failure_delta REAL NOT NULL
);
CREATE INDEX idx_regions_simulation ON region_analyses (simulation_id);

CREATE TABLE sensitivity_results (
  id TEXT PRIMARY KEY,
  simulation_id TEXT NOT NULL REFERENCES simulation_runs (id),
  analyzed_at TEXT NOT NULL,
  deltas_used TEXT NOT NULL CHECK (json_valid(deltas_used)),
  baseline_success REAL NOT NULL,
  most_sensitive_dimension TEXT NOT NULL,
  dimensions TEXT NOT NULL CHECK (json_valid(dimensions)),
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX idx_sensitivity_simulation ON sensitivity_results (simulation_id);
CREATE INDEX idx_sensitivity_analyzed_at ON sensitivity_results (analyzed_at);

CREATE TABLE chart_insights (
  id TEXT PRIMARY KEY,
  simulation_id TEXT NOT NULL,
  insight_type TEXT NOT NULL,
  response_json TEXT NOT NULL CHECK (json_valid(response_json)),
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  updated_at TEXT NOT NULL DEFAULT (datetime('now')),
  UNIQUE (simulation_id, insight_type)
);
CREATE INDEX idx_chart_insights_simulation ON chart_insights (simulation_id);
CREATE INDEX idx_chart_insights_type ON chart_insights (insight_type);

CREATE TABLE analysis_cache (
  analysis_id TEXT NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
  cache_key TEXT NOT NULL,
  data TEXT NOT NULL CHECK (json_valid(data)),
  params TEXT CHECK (params IS NULL OR json_valid(params)),
  computed_at TEXT NOT NULL DEFAULT (datetime('now')),
  PRIMARY KEY (analysis_id, cache_key)
);
CREATE INDEX idx_analysis_cache_analysis ON analysis_cache (analysis_id);
