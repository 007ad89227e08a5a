//! Legacy simulation tables kept reachable until retired: `feature_scorecards`,
//! `simulation_runs`, `region_analyses`, `sensitivity_results`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{RunStatus, Timestamp};

/// A legacy scorecard (`feature_scorecards`; scorecards now live in `experiments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureScorecard {
    /// Primary key.
    pub id: String,
    /// The experiment, if linked.
    pub experiment_id: Option<String>,
    /// The scorecard.
    pub data: Value,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Option<Timestamp>,
}

/// A legacy simulation (`simulation_runs`; replaced by analysis runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationRun {
    /// Primary key.
    pub id: String,
    /// The scorecard simulated.
    pub scorecard_id: String,
    /// The scenario.
    pub scenario_id: String,
    /// Configuration.
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
    /// Wall time.
    pub execution_time_seconds: Option<f64>,
}

/// A rule-defined region of a simulation (`region_analyses`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionAnalysis {
    /// Primary key.
    pub id: String,
    /// The simulation.
    pub simulation_id: String,
    /// The rules, as JSON.
    pub rules: Value,
    /// The rules, as text.
    pub rule_text: String,
    /// Synths in the region.
    pub synth_count: i64,
    /// Share of all synths.
    pub synth_percentage: f64,
    /// Region rate: not tried.
    pub did_not_try_rate: f64,
    /// Region rate: failed.
    pub failed_rate: f64,
    /// Region rate: succeeded.
    pub success_rate: f64,
    /// Failure rate minus the overall failure rate.
    pub failure_delta: f64,
}

/// A one-at-a-time sensitivity analysis (`sensitivity_results`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitivityResult {
    /// Primary key.
    pub id: String,
    /// The simulation.
    pub simulation_id: String,
    /// When it was analysed.
    pub analyzed_at: Timestamp,
    /// The deltas applied.
    pub deltas_used: Value,
    /// Baseline success rate.
    pub baseline_success: f64,
    /// The dimension with the largest effect.
    pub most_sensitive_dimension: String,
    /// Per-dimension results.
    pub dimensions: Value,
    /// When the row was written.
    pub created_at: Timestamp,
}
