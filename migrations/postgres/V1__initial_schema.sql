-- Schema V1, PostgreSQL dialect: the legacy v15 layout with real types.
-- Keep equivalent to migrations/sqlite/V1__initial_schema.sql (same tables, columns, keys,
-- ON DELETE actions, checks, defaults and indexes).
-- Mapping: TEXT -> text COLLATE "C" (byte order, like SQLite's BINARY collation, whatever the
-- database locale), JSON text -> jsonb, timestamp text -> timestamptz, INTEGER -> bigint,
-- REAL -> double precision (never real: it loses precision).

CREATE TABLE experiments (
  id text COLLATE "C" PRIMARY KEY,
  name text COLLATE "C" NOT NULL CHECK (char_length(name) <= 100),
  hypothesis text COLLATE "C" NOT NULL CHECK (char_length(hypothesis) <= 500),
  description text COLLATE "C" CHECK (char_length(description) <= 2000),
  scorecard_data jsonb,
  status text COLLATE "C" NOT NULL DEFAULT 'active' CHECK (status IN ('active','deleted')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz
);
CREATE INDEX idx_experiments_created ON experiments (created_at DESC);
CREATE INDEX idx_experiments_name ON experiments (name);
CREATE INDEX idx_experiments_status ON experiments (status);

CREATE TABLE analysis_runs (
  id text COLLATE "C" PRIMARY KEY,
  experiment_id text COLLATE "C" NOT NULL UNIQUE REFERENCES experiments (id) ON DELETE CASCADE,
  scenario_id text COLLATE "C" NOT NULL DEFAULT 'baseline',
  config jsonb NOT NULL,
  status text COLLATE "C" NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','running','completed','failed')),
  started_at timestamptz NOT NULL,
  completed_at timestamptz,
  total_synths bigint DEFAULT 0,
  aggregated_outcomes jsonb,
  execution_time_seconds double precision
);
CREATE INDEX idx_analysis_runs_experiment ON analysis_runs (experiment_id);
CREATE INDEX idx_analysis_runs_status ON analysis_runs (status);

CREATE TABLE synth_outcomes (
  id text COLLATE "C" PRIMARY KEY,
  analysis_id text COLLATE "C" NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
  synth_id text COLLATE "C" NOT NULL,
  did_not_try_rate double precision NOT NULL,
  failed_rate double precision NOT NULL,
  success_rate double precision NOT NULL,
  synth_attributes jsonb,
  UNIQUE (analysis_id, synth_id)
);
CREATE INDEX idx_outcomes_analysis ON synth_outcomes (analysis_id);

CREATE TABLE synth_groups (
  id text COLLATE "C" PRIMARY KEY,
  name text COLLATE "C" NOT NULL,
  description text COLLATE "C",
  created_at timestamptz NOT NULL
);
CREATE INDEX idx_synth_groups_created ON synth_groups (created_at DESC);

CREATE TABLE synths (
  id text COLLATE "C" PRIMARY KEY,
  synth_group_id text COLLATE "C" REFERENCES synth_groups (id),
  nome text COLLATE "C" NOT NULL,
  descricao text COLLATE "C",
  link_photo text COLLATE "C",
  avatar_path text COLLATE "C",
  created_at timestamptz NOT NULL,
  version text COLLATE "C" DEFAULT '2.0.0',
  data jsonb
);
CREATE INDEX idx_synths_created_at ON synths (created_at DESC);
CREATE INDEX idx_synths_nome ON synths (nome);
CREATE INDEX idx_synths_group ON synths (synth_group_id);

CREATE TABLE research_executions (
  exec_id text COLLATE "C" PRIMARY KEY,
  experiment_id text COLLATE "C" REFERENCES experiments (id) ON DELETE SET NULL,
  topic_name text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending','running','generating_summary','completed','failed')),
  synth_count bigint NOT NULL DEFAULT 0,
  successful_count bigint DEFAULT 0,
  failed_count bigint DEFAULT 0,
  model text COLLATE "C" DEFAULT 'gpt-4o-mini',
  max_turns bigint DEFAULT 6,
  started_at timestamptz NOT NULL,
  completed_at timestamptz,
  additional_context text COLLATE "C"
);
CREATE INDEX idx_executions_topic ON research_executions (topic_name);
CREATE INDEX idx_executions_status ON research_executions (status);
CREATE INDEX idx_executions_started ON research_executions (started_at DESC);
CREATE INDEX idx_executions_experiment ON research_executions (experiment_id);

CREATE TABLE transcripts (
  id text COLLATE "C" PRIMARY KEY,
  exec_id text COLLATE "C" NOT NULL REFERENCES research_executions (exec_id) ON DELETE CASCADE,
  synth_id text COLLATE "C" NOT NULL,
  synth_name text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL DEFAULT 'pending',
  turn_count bigint DEFAULT 0,
  "timestamp" timestamptz NOT NULL,
  messages jsonb,
  UNIQUE (exec_id, synth_id)
);
CREATE INDEX idx_transcripts_exec ON transcripts (exec_id);
CREATE INDEX idx_transcripts_synth ON transcripts (synth_id);

CREATE TABLE interview_guide (
  experiment_id text COLLATE "C" PRIMARY KEY REFERENCES experiments (id) ON DELETE CASCADE,
  context_definition text COLLATE "C",
  questions text COLLATE "C",
  context_examples text COLLATE "C",
  created_at timestamptz NOT NULL,
  updated_at timestamptz
);

CREATE TABLE feature_scorecards (
  id text COLLATE "C" PRIMARY KEY,
  experiment_id text COLLATE "C" REFERENCES experiments (id),
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz
);
CREATE INDEX idx_scorecards_created ON feature_scorecards (created_at DESC);
CREATE INDEX idx_scorecards_experiment ON feature_scorecards (experiment_id);

CREATE TABLE simulation_runs (
  id text COLLATE "C" PRIMARY KEY,
  scorecard_id text COLLATE "C" NOT NULL REFERENCES feature_scorecards (id),
  scenario_id text COLLATE "C" NOT NULL,
  config jsonb NOT NULL,
  status text COLLATE "C" NOT NULL CHECK (status IN ('pending','running','completed','failed')),
  started_at timestamptz NOT NULL,
  completed_at timestamptz,
  total_synths bigint DEFAULT 0,
  aggregated_outcomes jsonb,
  execution_time_seconds double precision
);
CREATE INDEX idx_simulations_scorecard ON simulation_runs (scorecard_id);
CREATE INDEX idx_simulations_status ON simulation_runs (status);

CREATE TABLE region_analyses (
  id text COLLATE "C" PRIMARY KEY,
  simulation_id text COLLATE "C" NOT NULL REFERENCES simulation_runs (id),
  rules jsonb NOT NULL,
  rule_text text COLLATE "C" NOT NULL,
  synth_count bigint NOT NULL,
  synth_percentage double precision NOT NULL,
  did_not_try_rate double precision NOT NULL,
  failed_rate double precision NOT NULL,
  success_rate double precision NOT NULL,
  failure_delta double precision NOT NULL
);
CREATE INDEX idx_regions_simulation ON region_analyses (simulation_id);

CREATE TABLE sensitivity_results (
  id text COLLATE "C" PRIMARY KEY,
  simulation_id text COLLATE "C" NOT NULL REFERENCES simulation_runs (id),
  analyzed_at timestamptz NOT NULL,
  deltas_used jsonb NOT NULL,
  baseline_success double precision NOT NULL,
  most_sensitive_dimension text COLLATE "C" NOT NULL,
  dimensions jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_sensitivity_simulation ON sensitivity_results (simulation_id);
CREATE INDEX idx_sensitivity_analyzed_at ON sensitivity_results (analyzed_at);

CREATE TABLE chart_insights (
  id text COLLATE "C" PRIMARY KEY,
  simulation_id text COLLATE "C" NOT NULL,
  insight_type text COLLATE "C" NOT NULL,
  response_json jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (simulation_id, insight_type)
);
CREATE INDEX idx_chart_insights_simulation ON chart_insights (simulation_id);
CREATE INDEX idx_chart_insights_type ON chart_insights (insight_type);

CREATE TABLE analysis_cache (
  analysis_id text COLLATE "C" NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
  cache_key text COLLATE "C" NOT NULL,
  data jsonb NOT NULL,
  params jsonb,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (analysis_id, cache_key)
);
CREATE INDEX idx_analysis_cache_analysis ON analysis_cache (analysis_id);

CREATE TABLE explorations (
  id text COLLATE "C" PRIMARY KEY CHECK (id ~ '^expl_[a-f0-9]{8}$'),
  experiment_id text COLLATE "C" NOT NULL REFERENCES experiments (id),
  baseline_analysis_id text COLLATE "C" NOT NULL REFERENCES analysis_runs (id),
  goal jsonb NOT NULL,
  config jsonb NOT NULL,
  status text COLLATE "C" NOT NULL DEFAULT 'running'
    CHECK (status IN ('running','goal_achieved','depth_limit_reached','cost_limit_reached','no_viable_paths')),
  current_depth bigint NOT NULL DEFAULT 0 CHECK (current_depth >= 0),
  total_nodes bigint NOT NULL DEFAULT 0 CHECK (total_nodes >= 0),
  total_llm_calls bigint NOT NULL DEFAULT 0 CHECK (total_llm_calls >= 0),
  best_success_rate double precision CHECK (best_success_rate IS NULL OR (best_success_rate BETWEEN 0 AND 1)),
  started_at timestamptz NOT NULL,
  completed_at timestamptz
);
CREATE INDEX idx_explorations_experiment ON explorations (experiment_id);
CREATE INDEX idx_explorations_status ON explorations (status);

CREATE TABLE scenario_nodes (
  id text COLLATE "C" PRIMARY KEY CHECK (id ~ '^node_[a-f0-9]{8}$'),
  exploration_id text COLLATE "C" NOT NULL REFERENCES explorations (id) ON DELETE CASCADE,
  parent_id text COLLATE "C" REFERENCES scenario_nodes (id),
  depth bigint NOT NULL CHECK (depth >= 0),
  action_applied text COLLATE "C",
  action_category text COLLATE "C",
  rationale text COLLATE "C",
  short_action text COLLATE "C",
  scorecard_params jsonb NOT NULL,
  simulation_results jsonb,
  execution_time_seconds double precision CHECK (execution_time_seconds IS NULL OR execution_time_seconds >= 0),
  node_status text COLLATE "C" NOT NULL DEFAULT 'active' CHECK (node_status IN ('active','dominated','winner','expansion_failed')),
  created_at timestamptz NOT NULL
);
CREATE INDEX idx_scenario_nodes_exploration ON scenario_nodes (exploration_id);
CREATE INDEX idx_scenario_nodes_parent ON scenario_nodes (parent_id);
CREATE INDEX idx_scenario_nodes_status ON scenario_nodes (exploration_id, node_status);
CREATE INDEX idx_scenario_nodes_depth ON scenario_nodes (exploration_id, depth);

CREATE TABLE experiment_documents (
  id text COLLATE "C" PRIMARY KEY,
  experiment_id text COLLATE "C" NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
  document_type text COLLATE "C" NOT NULL CHECK (document_type IN ('summary','prfaq','executive_summary')),
  markdown_content text COLLATE "C" NOT NULL,
  metadata jsonb,
  generated_at timestamptz NOT NULL,
  model text COLLATE "C" DEFAULT 'gpt-4o-mini',
  status text COLLATE "C" NOT NULL DEFAULT 'completed' CHECK (status IN ('pending','generating','completed','failed','partial')),
  error_message text COLLATE "C",
  UNIQUE (experiment_id, document_type)
);
CREATE INDEX idx_experiment_documents_experiment ON experiment_documents (experiment_id);
CREATE INDEX idx_experiment_documents_type ON experiment_documents (document_type);
CREATE INDEX idx_experiment_documents_status ON experiment_documents (status);

-- The default synth group always exists (the legacy application created it at startup).
INSERT INTO synth_groups (id, name, description, created_at)
VALUES ('grp_00000001', 'Default', 'Default group for synths without an explicit group', '2025-01-01T00:00:00.000000+00:00')
ON CONFLICT (id) DO NOTHING;
