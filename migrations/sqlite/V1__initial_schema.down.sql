-- Down of schema V1, SQLite dialect: removes every table of V1 (children before parents).
-- Keep equivalent to migrations/postgres/V1__initial_schema.down.sql.
-- Runs with foreign keys switched off, in one transaction with the removal of V1's history row.

DROP TABLE sensitivity_results;
DROP TABLE region_analyses;
DROP TABLE simulation_runs;
DROP TABLE chart_insights;
DROP TABLE scenario_nodes;
DROP TABLE explorations;
DROP TABLE transcripts;
DROP TABLE analysis_cache;
DROP TABLE synth_outcomes;
DROP TABLE synths;
DROP TABLE experiment_documents;
DROP TABLE research_executions;
DROP TABLE analysis_runs;
DROP TABLE interview_guide;
DROP TABLE feature_scorecards;
DROP TABLE synth_groups;
DROP TABLE experiments;
