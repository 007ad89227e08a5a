//! [`ExplorationRepository`]: LLM-guided scenario searches and their tree of nodes.

use async_trait::async_trait;
use serde_json::Value;

use crate::Result;
use crate::model::{
    Exploration, ExplorationChanges, NewExploration, NewScenarioNode, NodeStatus, ScenarioNode, ScenarioNodeChanges,
};

/// Explorations (`explorations`) and their scenario trees (`scenario_nodes`).
///
/// "Tree order" of nodes is: `depth` ascending, then `created_at` ascending (by instant,
/// whatever the stored shape), then `id` ascending.
#[super::repository]
#[async_trait]
pub trait ExplorationRepository: Send + Sync {
    /// Creates an exploration (status `running`, counters 0, no best rate).
    ///
    /// # Errors
    /// Conflict when the id exists; ForeignKey when the experiment or the baseline analysis
    /// does not exist; Check when the id is not `expl_` + 8 lowercase hex digits.
    #[write]
    async fn create(&self, new: &NewExploration) -> Result<Exploration>;

    /// The exploration with this id, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<Exploration>>;

    /// Sets the fields given as `Some`.
    ///
    /// # Errors
    /// NotFound when no exploration has this id; Check for a negative counter or a best
    /// success rate outside [0, 1]; InvalidInput for a NaN or infinite rate.
    #[write]
    async fn update(&self, id: &str, changes: &ExplorationChanges) -> Result<Exploration>;

    /// Explorations of an experiment, newest first (`started_at` descending, ties by id
    /// descending).
    #[read]
    async fn list_by_experiment(&self, experiment_id: &str) -> Result<Vec<Exploration>>;

    /// Adds a node.
    ///
    /// # Errors
    /// Conflict when the id exists; ForeignKey when the exploration or the parent does not
    /// exist; Check for a malformed id, a negative depth or a negative execution time;
    /// InvalidInput for a NaN or infinite execution time.
    #[write]
    async fn create_node(&self, new: &NewScenarioNode) -> Result<ScenarioNode>;

    /// The node with this id, or `None`.
    #[read]
    async fn get_node(&self, id: &str) -> Result<Option<ScenarioNode>>;

    /// Sets the node fields given as `Some`.
    ///
    /// # Errors
    /// NotFound when no node has this id; Check for a negative execution time; InvalidInput
    /// for a NaN or infinite execution time.
    #[write]
    async fn update_node(&self, id: &str, changes: &ScenarioNodeChanges) -> Result<ScenarioNode>;

    /// Sets the node's status.
    ///
    /// # Errors
    /// NotFound when no node has this id.
    #[write]
    async fn update_node_status(&self, id: &str, status: NodeStatus) -> Result<ScenarioNode>;

    /// Replaces the node's simulation results and execution time.
    ///
    /// # Errors
    /// NotFound when no node has this id; Check for a negative execution time; InvalidInput
    /// for a NaN or infinite execution time.
    #[write]
    async fn update_node_results(&self, id: &str, results: &Value, execution_time_seconds: f64)
    -> Result<ScenarioNode>;

    /// Every node of an exploration, in tree order.
    #[read]
    async fn nodes(&self, exploration_id: &str) -> Result<Vec<ScenarioNode>>;

    /// The frontier: nodes of the exploration whose status is `active` and that have no child
    /// node at all (a child of any status makes a node interior), in tree order.
    #[read]
    async fn frontier(&self, exploration_id: &str) -> Result<Vec<ScenarioNode>>;

    /// The root (the node without parent; the first in tree order if legacy data has
    /// several), or `None`.
    #[read]
    async fn root(&self, exploration_id: &str) -> Result<Option<ScenarioNode>>;

    /// The winner (status `winner`; the first in tree order if there are several), or `None`.
    #[read]
    async fn winner(&self, exploration_id: &str) -> Result<Option<ScenarioNode>>;

    /// The nodes from the root down to `node_id` (root first, `node_id` last), following
    /// `parent_id`; empty when the node does not exist.
    #[read]
    async fn path(&self, node_id: &str) -> Result<Vec<ScenarioNode>>;

    /// Direct children of a node, by `created_at` (by instant) then id.
    #[read]
    async fn children(&self, node_id: &str) -> Result<Vec<ScenarioNode>>;

    /// Number of nodes of the exploration in each status: every [`NodeStatus`] once, in
    /// declaration order, zeros included.
    #[read]
    async fn count_by_status(&self, exploration_id: &str) -> Result<Vec<(NodeStatus, i64)>>;

    /// The node with the highest numeric `simulation_results.success_rate` (ties by id
    /// ascending); nodes whose results lack a numeric `success_rate` are ignored.
    #[read]
    async fn best_node(&self, exploration_id: &str) -> Result<Option<ScenarioNode>>;
}
