//! LLM-guided scenario search: `explorations` and their tree of `scenario_nodes`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Input, Timestamp};
use crate::Result;

string_enum! {
    /// `explorations.status`.
    ExplorationStatus {
        Running = "running",
        GoalAchieved = "goal_achieved",
        DepthLimitReached = "depth_limit_reached",
        CostLimitReached = "cost_limit_reached",
        NoViablePaths = "no_viable_paths",
    }
}

string_enum! {
    /// `scenario_nodes.node_status`.
    NodeStatus { Active = "active", Dominated = "dominated", Winner = "winner", ExpansionFailed = "expansion_failed" }
}

/// A scenario search (`explorations`; id `expl_` + 8 hex).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exploration {
    /// Primary key (`expl_` + 8 lowercase hex digits).
    pub id: String,
    /// The experiment.
    pub experiment_id: String,
    /// The analysis the search starts from.
    pub baseline_analysis_id: String,
    /// The goal.
    pub goal: Value,
    /// Search settings.
    pub config: Value,
    /// Lifecycle state.
    pub status: ExplorationStatus,
    /// Deepest level reached (≥ 0).
    pub current_depth: i64,
    /// Nodes created (≥ 0).
    pub total_nodes: i64,
    /// LLM calls made (≥ 0).
    pub total_llm_calls: i64,
    /// Best success rate found, in [0, 1].
    pub best_success_rate: Option<f64>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    pub completed_at: Option<Timestamp>,
}

/// A node of the scenario tree (`scenario_nodes`; id `node_` + 8 hex).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioNode {
    /// Primary key (`node_` + 8 lowercase hex digits).
    pub id: String,
    /// The exploration.
    pub exploration_id: String,
    /// The parent node (`None` for the root).
    pub parent_id: Option<String>,
    /// Depth in the tree (root = 0).
    pub depth: i64,
    /// The action applied to the parent's scenario.
    pub action_applied: Option<String>,
    /// The action's category.
    pub action_category: Option<String>,
    /// Why the action was chosen.
    pub rationale: Option<String>,
    /// Short label of the action.
    pub short_action: Option<String>,
    /// Scorecard parameters of this scenario.
    pub scorecard_params: Value,
    /// Simulation results (contains `success_rate`).
    pub simulation_results: Option<Value>,
    /// Simulation wall time (≥ 0).
    pub execution_time_seconds: Option<f64>,
    /// Node state.
    pub node_status: NodeStatus,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Refuses NaN and infinities: SQLite would store NaN as NULL and slip past CHECK constraints
/// that PostgreSQL enforces, so both backends refuse them before the database sees them.
fn finite(field: &str, value: Option<f64>) -> Result<()> {
    super::portable::opt_finite(value, field).map(|_| ())
}

/// What a caller supplies to start a scenario search (status `running`, counters 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewExploration {
    /// Primary key (`expl_` + 8 lowercase hex); [`NewExploration::new`] generates one.
    pub id: String,
    /// The experiment.
    pub experiment_id: String,
    /// The analysis the search starts from.
    pub baseline_analysis_id: String,
    /// The goal.
    pub goal: Value,
    /// Search settings.
    pub config: Value,
    /// Start time; `None` means now.
    pub started_at: Option<Timestamp>,
}

impl NewExploration {
    /// A new exploration with a generated `expl_` id.
    pub fn new(
        experiment_id: impl Into<String>,
        baseline_analysis_id: impl Into<String>,
        goal: Value,
        config: Value,
    ) -> Self {
        NewExploration {
            id: super::id::generate("expl", 8),
            experiment_id: experiment_id.into(),
            baseline_analysis_id: baseline_analysis_id.into(),
            goal,
            config,
            started_at: None,
        }
    }
}

/// Fields of an exploration to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Input)]
pub struct ExplorationChanges {
    /// New state.
    pub status: Option<ExplorationStatus>,
    /// Deepest level reached (≥ 0).
    pub current_depth: Option<i64>,
    /// Nodes created (≥ 0).
    pub total_nodes: Option<i64>,
    /// LLM calls made (≥ 0).
    pub total_llm_calls: Option<i64>,
    /// Best success rate found, in [0, 1].
    pub best_success_rate: Option<f64>,
    /// Completion time.
    pub completed_at: Option<Timestamp>,
}

impl ExplorationChanges {
    /// Refuses non-finite numbers (ranges are the database's CHECK constraints).
    ///
    /// # Errors
    /// InvalidInput when `best_success_rate` is NaN or infinite.
    pub fn validate(&self) -> Result<()> {
        finite("best_success_rate", self.best_success_rate)
    }
}

/// What a caller supplies to add a node to the scenario tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewScenarioNode {
    /// Primary key (`node_` + 8 lowercase hex); [`NewScenarioNode::new`] generates one.
    pub id: String,
    /// The exploration.
    pub exploration_id: String,
    /// The parent node (`None` for the root).
    pub parent_id: Option<String>,
    /// Depth in the tree (≥ 0).
    pub depth: i64,
    /// The action applied to the parent's scenario.
    pub action_applied: Option<String>,
    /// The action's category.
    pub action_category: Option<String>,
    /// Why the action was chosen.
    pub rationale: Option<String>,
    /// Short label of the action.
    pub short_action: Option<String>,
    /// Scorecard parameters of this scenario.
    pub scorecard_params: Value,
    /// Simulation results.
    pub simulation_results: Option<Value>,
    /// Simulation wall time (≥ 0).
    pub execution_time_seconds: Option<f64>,
    /// Initial state (usually [`NodeStatus::Active`]).
    pub node_status: NodeStatus,
    /// Creation time; `None` means now.
    pub created_at: Option<Timestamp>,
}

impl NewScenarioNode {
    /// An active node with a generated `node_` id, no action and no results.
    pub fn new(
        exploration_id: impl Into<String>,
        parent_id: Option<String>,
        depth: i64,
        scorecard_params: Value,
    ) -> Self {
        NewScenarioNode {
            id: super::id::generate("node", 8),
            exploration_id: exploration_id.into(),
            parent_id,
            depth,
            action_applied: None,
            action_category: None,
            rationale: None,
            short_action: None,
            scorecard_params,
            simulation_results: None,
            execution_time_seconds: None,
            node_status: NodeStatus::Active,
            created_at: None,
        }
    }

    /// Refuses non-finite numbers (ranges are the database's CHECK constraints).
    ///
    /// # Errors
    /// InvalidInput when `execution_time_seconds` is NaN or infinite.
    pub fn validate(&self) -> Result<()> {
        finite("execution_time_seconds", self.execution_time_seconds)
    }
}

/// Fields of a scenario node to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Input)]
pub struct ScenarioNodeChanges {
    /// New action.
    pub action_applied: Option<String>,
    /// New action category.
    pub action_category: Option<String>,
    /// New rationale.
    pub rationale: Option<String>,
    /// New short label.
    pub short_action: Option<String>,
    /// New scorecard parameters.
    pub scorecard_params: Option<Value>,
    /// New simulation results.
    pub simulation_results: Option<Value>,
    /// New simulation wall time (≥ 0).
    pub execution_time_seconds: Option<f64>,
    /// New state.
    pub node_status: Option<NodeStatus>,
}

impl ScenarioNodeChanges {
    /// Refuses non-finite numbers (ranges are the database's CHECK constraints).
    ///
    /// # Errors
    /// InvalidInput when `execution_time_seconds` is NaN or infinite.
    pub fn validate(&self) -> Result<()> {
        finite("execution_time_seconds", self.execution_time_seconds)
    }
}

/// Every [`NodeStatus`] in declaration order with its count from `counted` (0 when absent).
pub(crate) fn node_status_counts(counted: &[(NodeStatus, i64)]) -> Vec<(NodeStatus, i64)> {
    NodeStatus::ALL
        .iter()
        .map(|status| {
            let n = counted.iter().filter(|(s, _)| s == status).map(|(_, n)| n).sum();
            (*status, n)
        })
        .collect()
}
