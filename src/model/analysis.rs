//! Quantitative analyses: `analysis_runs`, `synth_outcomes`, `analysis_cache`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Timestamp;

string_enum! {
    /// `analysis_runs.status` and `simulation_runs.status`.
    RunStatus { Pending = "pending", Running = "running", Completed = "completed", Failed = "failed" }
}

/// The 1:1 quantitative analysis of an experiment (`analysis_runs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisRun {
    /// Primary key.
    pub id: String,
    /// The experiment (unique: one analysis per experiment).
    pub experiment_id: String,
    /// The scenario simulated (legacy default `baseline`).
    pub scenario_id: String,
    /// The simulation configuration.
    pub config: Value,
    /// Lifecycle state.
    pub status: RunStatus,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    pub completed_at: Option<Timestamp>,
    /// How many synths were simulated.
    pub total_synths: Option<i64>,
    /// Aggregated rates.
    pub aggregated_outcomes: Option<Value>,
    /// Wall time of the run.
    pub execution_time_seconds: Option<f64>,
}

/// Per-synth rates of an analysis (`synth_outcomes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthOutcome {
    /// Primary key.
    pub id: String,
    /// The analysis.
    pub analysis_id: String,
    /// The synth (unique per analysis).
    pub synth_id: String,
    /// Share of attempts not tried.
    pub did_not_try_rate: f64,
    /// Share of attempts failed.
    pub failed_rate: f64,
    /// Share of attempts succeeded.
    pub success_rate: f64,
    /// The synth's attributes at simulation time.
    pub synth_attributes: Option<Value>,
}

/// Precomputed chart data of an analysis (`analysis_cache`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisCacheEntry {
    /// The analysis.
    pub analysis_id: String,
    /// The cache key (chart name, insight key, ...).
    pub cache_key: String,
    /// The cached data.
    pub data: Value,
    /// The parameters the data was computed with.
    pub params: Option<Value>,
    /// When it was computed.
    pub computed_at: Timestamp,
}
