//! Quantitative analyses: `analysis_runs`, `synth_outcomes`, `analysis_cache`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Input, Timestamp};

string_enum! {
    /// `analysis_runs.status` and `simulation_runs.status`.
    RunStatus {
        /// Created, not started.
        Pending = "pending",
        /// In progress.
        Running = "running",
        /// Finished with results.
        Completed = "completed",
        /// Finished without results.
        Failed = "failed",
    }
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

/// What a caller supplies to create an analysis run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewAnalysisRun {
    /// Primary key; [`NewAnalysisRun::new`] generates one.
    pub id: String,
    /// The experiment (one analysis per experiment).
    pub experiment_id: String,
    /// The scenario simulated.
    pub scenario_id: String,
    /// The simulation configuration.
    pub config: Value,
    /// Initial state.
    pub status: RunStatus,
    /// Start time; `None` means now.
    pub started_at: Option<Timestamp>,
}

impl NewAnalysisRun {
    /// A pending run of the `baseline` scenario with a generated id, starting now.
    pub fn new(experiment_id: impl Into<String>, config: Value) -> Self {
        NewAnalysisRun {
            id: super::id::generate("ana", 12),
            experiment_id: experiment_id.into(),
            scenario_id: "baseline".to_owned(),
            config,
            status: RunStatus::Pending,
            started_at: None,
        }
    }
}

/// A status change of an analysis run; `None` fields keep their stored value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct AnalysisStatusUpdate {
    /// The new state.
    pub status: RunStatus,
    /// When it finished.
    pub completed_at: Option<Timestamp>,
    /// How many synths were simulated.
    pub total_synths: Option<i64>,
    /// Aggregated rates.
    pub aggregated_outcomes: Option<Value>,
    /// Wall time of the run (finite).
    pub execution_time_seconds: Option<f64>,
}

impl AnalysisStatusUpdate {
    /// A change of the status alone.
    pub fn new(status: RunStatus) -> Self {
        AnalysisStatusUpdate {
            status,
            completed_at: None,
            total_synths: None,
            aggregated_outcomes: None,
            execution_time_seconds: None,
        }
    }
}

/// What a caller supplies to store one synth's rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewSynthOutcome {
    /// Primary key; [`NewSynthOutcome::new`] generates one.
    pub id: String,
    /// The analysis.
    pub analysis_id: String,
    /// The synth (unique per analysis).
    pub synth_id: String,
    /// Share of attempts not tried (finite).
    pub did_not_try_rate: f64,
    /// Share of attempts failed (finite).
    pub failed_rate: f64,
    /// Share of attempts succeeded (finite).
    pub success_rate: f64,
    /// The synth's attributes at simulation time.
    pub synth_attributes: Option<Value>,
}

impl NewSynthOutcome {
    /// An outcome with a generated id and no attributes.
    pub fn new(
        analysis_id: impl Into<String>,
        synth_id: impl Into<String>,
        did_not_try_rate: f64,
        failed_rate: f64,
        success_rate: f64,
    ) -> Self {
        NewSynthOutcome {
            id: super::id::generate("out", 12),
            analysis_id: analysis_id.into(),
            synth_id: synth_id.into(),
            did_not_try_rate,
            failed_rate,
            success_rate,
            synth_attributes: None,
        }
    }
}

/// Summary statistics of one rate over the outcomes of an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateStatistics {
    /// Arithmetic mean.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Sample standard deviation (n − 1 denominator, pandas' default `ddof=1`); `None` for a
    /// single value.
    pub stddev: Option<f64>,
}

/// Statistics of the three rates over the outcomes of an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OutcomeStatistics {
    /// How many outcomes the analysis has.
    pub count: i64,
    /// `did_not_try_rate` (`None` when there are no outcomes).
    pub did_not_try_rate: Option<RateStatistics>,
    /// `failed_rate` (`None` when there are no outcomes).
    pub failed_rate: Option<RateStatistics>,
    /// `success_rate` (`None` when there are no outcomes).
    pub success_rate: Option<RateStatistics>,
}

/// Compensated (Neumaier) sum: accurate, and deterministic for a given input order.
fn compensated_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut compensation) = (0.0f64, 0.0f64);
    for v in values {
        let t = sum + v;
        compensation += if sum.abs() >= v.abs() {
            (sum - t) + v
        } else {
            (v - t) + sum
        };
        sum = t;
    }
    sum + compensation
}

/// Mean, min, max and sample standard deviation of `values` (`None` when empty).
///
/// Two-pass algorithm with compensated sums; the result depends only on the values and their
/// order, so both backends (which fetch the values in the same order) give bit-identical
/// numbers.
pub fn rate_statistics(values: &[f64]) -> Option<RateStatistics> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = compensated_sum(values.iter().copied()) / n as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let stddev = (n > 1).then(|| {
        let squares = compensated_sum(values.iter().map(|v| (v - mean) * (v - mean)));
        (squares / (n - 1) as f64).sqrt()
    });
    Some(RateStatistics { mean, min, max, stddev })
}

/// [`OutcomeStatistics`] of outcomes given as `[did_not_try_rate, failed_rate, success_rate]`.
pub fn outcome_statistics(rates: &[[f64; 3]]) -> OutcomeStatistics {
    let column = |i: usize| rate_statistics(&rates.iter().map(|r| r[i]).collect::<Vec<_>>());
    OutcomeStatistics {
        count: rates.len() as i64,
        did_not_try_rate: column(0),
        failed_rate: column(1),
        success_rate: column(2),
    }
}

/// The cache key the legacy application stored the executive summary of an analysis under.
pub const EXECUTIVE_SUMMARY_CACHE_KEY: &str = "executive_summary";

/// The prefix of the cache keys the legacy application stored chart insights under
/// (`insight_<chart_type>`).
pub const CHART_INSIGHT_CACHE_PREFIX: &str = "insight_";

/// The cache key of the insight of one chart type.
pub fn chart_insight_cache_key(chart_type: &str) -> String {
    format!("{CHART_INSIGHT_CACHE_PREFIX}{chart_type}")
}

/// What a caller supplies to store (or replace) one cache entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewCacheEntry {
    /// The analysis.
    pub analysis_id: String,
    /// The cache key.
    pub cache_key: String,
    /// The cached data.
    pub data: Value,
    /// The parameters the data was computed with.
    pub params: Option<Value>,
    /// Computation time; `None` means now.
    pub computed_at: Option<Timestamp>,
}

impl NewCacheEntry {
    /// An entry without parameters, computed now.
    pub fn new(analysis_id: impl Into<String>, cache_key: impl Into<String>, data: Value) -> Self {
        NewCacheEntry {
            analysis_id: analysis_id.into(),
            cache_key: cache_key.into(),
            data,
            params: None,
            computed_at: None,
        }
    }

    /// One entry per (analysis, key), in the order given: the last one given wins, as if the
    /// entries were saved one after the other.
    pub(crate) fn last_per_key(entries: &[NewCacheEntry]) -> Vec<&NewCacheEntry> {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<&NewCacheEntry> = entries
            .iter()
            .rev()
            .filter(|entry| seen.insert((entry.analysis_id.as_str(), entry.cache_key.as_str())))
            .collect();
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_match_a_hand_computation() {
        let s = rate_statistics(&[0.2, 0.4, 0.9]).expect("values");
        assert!((s.mean - 0.5).abs() < 1e-15);
        assert_eq!((s.min, s.max), (0.2, 0.9));
        // sample variance: (0.09 + 0.01 + 0.16) / 2 = 0.13
        assert!((s.stddev.expect("n > 1") - 0.13f64.sqrt()).abs() < 1e-15);
        assert_eq!(rate_statistics(&[0.7]).and_then(|s| s.stddev), None);
        assert_eq!(rate_statistics(&[]), None);
        assert_eq!(outcome_statistics(&[]).count, 0);
    }

    #[test]
    fn batch_keeps_the_last_entry_per_key() {
        let entries = [
            NewCacheEntry::new("a", "k", serde_json::json!(1)),
            NewCacheEntry::new("a", "j", serde_json::json!(2)),
            NewCacheEntry::new("a", "k", serde_json::json!(3)),
        ];
        let out = NewCacheEntry::last_per_key(&entries);
        let kept: Vec<_> = out.iter().map(|e| (e.cache_key.as_str(), e.data.clone())).collect();
        assert_eq!(kept, [("j", serde_json::json!(2)), ("k", serde_json::json!(3))]);
    }
}
