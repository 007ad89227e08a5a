//! LLM-guided scenario search: `explorations` and their tree of `scenario_nodes`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Timestamp;

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
