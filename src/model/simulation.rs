//! Legacy simulation tables kept reachable until retired: `feature_scorecards`,
//! `simulation_runs`, `region_analyses`, `sensitivity_results`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Input, RunStatus, Timestamp};

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

/// What a caller supplies to create a legacy scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewScorecard {
    /// Primary key; [`NewScorecard::new`] generates one.
    pub id: String,
    /// The experiment, if linked.
    pub experiment_id: Option<String>,
    /// The scorecard.
    pub data: Value,
    /// Creation time; `None` means now.
    pub created_at: Option<Timestamp>,
}

impl NewScorecard {
    /// A new unlinked scorecard with a generated id.
    pub fn new(data: Value) -> Self {
        NewScorecard {
            id: super::id::generate("sc", 12),
            experiment_id: None,
            data,
            created_at: None,
        }
    }
}

/// What a caller supplies to create a legacy simulation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewSimulation {
    /// Primary key; [`NewSimulation::new`] generates one.
    pub id: String,
    /// The scorecard simulated.
    pub scorecard_id: String,
    /// The scenario.
    pub scenario_id: String,
    /// Configuration.
    pub config: Value,
    /// Initial state.
    pub status: RunStatus,
    /// Start time; `None` means now.
    pub started_at: Option<Timestamp>,
    /// When it finished.
    pub completed_at: Option<Timestamp>,
    /// How many synths were simulated; `None` stores the column default 0.
    pub total_synths: Option<i64>,
    /// Aggregated rates.
    pub aggregated_outcomes: Option<Value>,
    /// Wall time (finite; -0.0 is stored as 0.0).
    pub execution_time_seconds: Option<f64>,
}

impl NewSimulation {
    /// A new pending simulation with a generated id, started now.
    pub fn new(scorecard_id: impl Into<String>, scenario_id: impl Into<String>, config: Value) -> Self {
        NewSimulation {
            id: super::id::generate("sim", 12),
            scorecard_id: scorecard_id.into(),
            scenario_id: scenario_id.into(),
            config,
            status: RunStatus::Pending,
            started_at: None,
            completed_at: None,
            total_synths: None,
            aggregated_outcomes: None,
            execution_time_seconds: None,
        }
    }
}

/// The new state of a simulation: every field is written as given (`None` clears it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct SimulationStatusUpdate {
    /// Lifecycle state.
    pub status: RunStatus,
    /// When it finished.
    pub completed_at: Option<Timestamp>,
    /// How many synths were simulated.
    pub total_synths: Option<i64>,
    /// Aggregated rates.
    pub aggregated_outcomes: Option<Value>,
    /// Wall time (finite; -0.0 is stored as 0.0).
    pub execution_time_seconds: Option<f64>,
}

impl SimulationStatusUpdate {
    /// An update to `status` that clears the other fields.
    pub fn new(status: RunStatus) -> Self {
        SimulationStatusUpdate {
            status,
            completed_at: None,
            total_synths: None,
            aggregated_outcomes: None,
            execution_time_seconds: None,
        }
    }
}

/// A simulation with the number of rows that hang off it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationSummary {
    /// The simulation.
    pub simulation: SimulationRun,
    /// How many region analyses belong to it.
    pub region_count: i64,
    /// How many sensitivity results belong to it.
    pub sensitivity_count: i64,
}

/// What a caller supplies to save a region analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewRegionAnalysis {
    /// Primary key; [`NewRegionAnalysis::new`] generates one.
    pub id: String,
    /// The simulation.
    pub simulation_id: String,
    /// The rules, as JSON.
    pub rules: Value,
    /// The rules, as text.
    pub rule_text: String,
    /// Synths in the region.
    pub synth_count: i64,
    /// Share of all synths (finite, like every rate below; -0.0 is stored as 0.0).
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

impl NewRegionAnalysis {
    /// A new region with a generated id; counts and rates start at 0 for the caller to set.
    pub fn new(simulation_id: impl Into<String>, rules: Value, rule_text: impl Into<String>) -> Self {
        NewRegionAnalysis {
            id: super::id::generate("reg", 12),
            simulation_id: simulation_id.into(),
            rules,
            rule_text: rule_text.into(),
            synth_count: 0,
            synth_percentage: 0.0,
            did_not_try_rate: 0.0,
            failed_rate: 0.0,
            success_rate: 0.0,
            failure_delta: 0.0,
        }
    }
}

/// What a caller supplies to save a sensitivity result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewSensitivityResult {
    /// Primary key; [`NewSensitivityResult::new`] generates one.
    pub id: String,
    /// The simulation.
    pub simulation_id: String,
    /// When it was analysed.
    pub analyzed_at: Timestamp,
    /// The deltas applied.
    pub deltas_used: Value,
    /// Baseline success rate (finite; -0.0 is stored as 0.0).
    pub baseline_success: f64,
    /// The dimension with the largest effect.
    pub most_sensitive_dimension: String,
    /// Per-dimension results.
    pub dimensions: Value,
    /// When the row was written; `None` means now.
    pub created_at: Option<Timestamp>,
}

impl NewSensitivityResult {
    /// A new result with a generated id, analysed now.
    pub fn new(
        simulation_id: impl Into<String>,
        deltas_used: Value,
        baseline_success: f64,
        most_sensitive_dimension: impl Into<String>,
        dimensions: Value,
    ) -> Self {
        NewSensitivityResult {
            id: super::id::generate("sens", 12),
            simulation_id: simulation_id.into(),
            analyzed_at: super::now(),
            deltas_used,
            baseline_success,
            most_sensitive_dimension: most_sensitive_dimension.into(),
            dimensions,
            created_at: None,
        }
    }
}
