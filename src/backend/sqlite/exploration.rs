//! [`ExplorationRepository`] over SQLite.

use async_trait::async_trait;
use serde_json::Value;

use super::SqliteDb;
use super::row::args;
use crate::Result;
use crate::backend::driver::Driver;
use crate::backend::from_row::status_count_row;
use crate::model::{
    Exploration, ExplorationChanges, NewExploration, NewScenarioNode, NodeStatus, ScenarioNode, ScenarioNodeChanges,
    node_status_counts, now,
};
use crate::repo::ExplorationRepository;

/// The columns of `explorations`, in the order of the model.
macro_rules! exploration_columns {
    () => {
        "id, experiment_id, baseline_analysis_id, goal, config, status, current_depth, total_nodes, \
         total_llm_calls, best_success_rate, started_at, completed_at"
    };
}

/// The columns of `scenario_nodes`, in the order of the model.
macro_rules! node_columns {
    () => {
        "id, exploration_id, parent_id, depth, action_applied, action_category, rationale, short_action, \
         scorecard_params, simulation_results, execution_time_seconds, node_status, created_at"
    };
}

/// Tree order: depth, then creation instant (julianday; text breaks sub-millisecond ties), then id.
macro_rules! tree_order {
    () => {
        " ORDER BY depth ASC, julianday(created_at) ASC NULLS FIRST, created_at ASC, id ASC"
    };
}

/// Explorations and scenario nodes in the legacy SQLite store.
pub(crate) struct SqliteExplorationRepository {
    db: SqliteDb,
}

impl SqliteExplorationRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteExplorationRepository { db }
    }
}

#[async_trait]
impl ExplorationRepository for SqliteExplorationRepository {
    async fn create(&self, new: &NewExploration) -> Result<Exploration> {
        self.db
            .fetch_written(
                concat!(
                    "INSERT INTO explorations (id, experiment_id, baseline_analysis_id, goal, config, status,
                         current_depth, total_nodes, total_llm_calls, started_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'running', 0, 0, 0, ?6)
                     RETURNING ",
                    exploration_columns!()
                ),
                args![
                    new.id,
                    new.experiment_id,
                    new.baseline_analysis_id,
                    new.goal,
                    new.config,
                    new.started_at.unwrap_or_else(now)
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<Exploration>> {
        self.db
            .fetch_opt(
                concat!("SELECT ", exploration_columns!(), " FROM explorations WHERE id = ?1"),
                args![id],
            )
            .await
    }

    async fn update(&self, id: &str, changes: &ExplorationChanges) -> Result<Exploration> {
        self.db
            .fetch_updated(
                concat!(
                    "UPDATE explorations
                     SET status = coalesce(?2, status), current_depth = coalesce(?3, current_depth),
                         total_nodes = coalesce(?4, total_nodes), total_llm_calls = coalesce(?5, total_llm_calls),
                         best_success_rate = coalesce(?6, best_success_rate),
                         completed_at = coalesce(?7, completed_at)
                     WHERE id = ?1
                     RETURNING ",
                    exploration_columns!()
                ),
                args![
                    id,
                    changes.status,
                    changes.current_depth,
                    changes.total_nodes,
                    changes.total_llm_calls,
                    changes.best_success_rate,
                    changes.completed_at
                ],
                format!("exploration {id}"),
            )
            .await
    }

    async fn list_by_experiment(&self, experiment_id: &str) -> Result<Vec<Exploration>> {
        self.db
            .fetch_all(
                concat!(
                    "SELECT ",
                    exploration_columns!(),
                    " FROM explorations WHERE experiment_id = ?1
                     ORDER BY julianday(started_at) DESC NULLS LAST, started_at DESC, id DESC"
                ),
                args![experiment_id],
            )
            .await
    }

    async fn create_node(&self, new: &NewScenarioNode) -> Result<ScenarioNode> {
        self.db
            .fetch_written(
                concat!(
                    "INSERT INTO scenario_nodes (",
                    node_columns!(),
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                     RETURNING ",
                    node_columns!()
                ),
                args![
                    new.id,
                    new.exploration_id,
                    new.parent_id,
                    new.depth,
                    new.action_applied,
                    new.action_category,
                    new.rationale,
                    new.short_action,
                    new.scorecard_params,
                    new.simulation_results,
                    new.execution_time_seconds,
                    new.node_status,
                    new.created_at.unwrap_or_else(now)
                ],
            )
            .await
    }

    async fn get_node(&self, id: &str) -> Result<Option<ScenarioNode>> {
        self.db
            .fetch_opt(
                concat!("SELECT ", node_columns!(), " FROM scenario_nodes WHERE id = ?1"),
                args![id],
            )
            .await
    }

    async fn update_node(&self, id: &str, changes: &ScenarioNodeChanges) -> Result<ScenarioNode> {
        self.db
            .fetch_updated(
                concat!(
                    "UPDATE scenario_nodes
                     SET action_applied = coalesce(?2, action_applied),
                         action_category = coalesce(?3, action_category),
                         rationale = coalesce(?4, rationale), short_action = coalesce(?5, short_action),
                         scorecard_params = coalesce(?6, scorecard_params),
                         simulation_results = coalesce(?7, simulation_results),
                         execution_time_seconds = coalesce(?8, execution_time_seconds),
                         node_status = coalesce(?9, node_status)
                     WHERE id = ?1
                     RETURNING ",
                    node_columns!()
                ),
                args![
                    id,
                    changes.action_applied,
                    changes.action_category,
                    changes.rationale,
                    changes.short_action,
                    changes.scorecard_params,
                    changes.simulation_results,
                    changes.execution_time_seconds,
                    changes.node_status
                ],
                format!("scenario node {id}"),
            )
            .await
    }

    async fn update_node_status(&self, id: &str, status: NodeStatus) -> Result<ScenarioNode> {
        self.db
            .fetch_updated(
                concat!(
                    "UPDATE scenario_nodes SET node_status = ?2 WHERE id = ?1 RETURNING ",
                    node_columns!()
                ),
                args![id, status],
                format!("scenario node {id}"),
            )
            .await
    }

    async fn update_node_results(
        &self,
        id: &str,
        results: &Value,
        execution_time_seconds: f64,
    ) -> Result<ScenarioNode> {
        self.db
            .fetch_updated(
                concat!(
                    "UPDATE scenario_nodes SET simulation_results = ?2, execution_time_seconds = ?3
                     WHERE id = ?1 RETURNING ",
                    node_columns!()
                ),
                args![id, results, execution_time_seconds],
                format!("scenario node {id}"),
            )
            .await
    }

    async fn nodes(&self, exploration_id: &str) -> Result<Vec<ScenarioNode>> {
        self.db
            .fetch_all(
                concat!(
                    "SELECT ",
                    node_columns!(),
                    " FROM scenario_nodes WHERE exploration_id = ?1",
                    tree_order!()
                ),
                args![exploration_id],
            )
            .await
    }

    async fn frontier(&self, exploration_id: &str) -> Result<Vec<ScenarioNode>> {
        self.db
            .fetch_all(
                concat!(
                    "SELECT ",
                    node_columns!(),
                    " FROM scenario_nodes n
                     WHERE n.exploration_id = ?1 AND n.node_status = 'active'
                       AND NOT EXISTS (SELECT 1 FROM scenario_nodes c WHERE c.parent_id = n.id)",
                    tree_order!()
                ),
                args![exploration_id],
            )
            .await
    }

    async fn root(&self, exploration_id: &str) -> Result<Option<ScenarioNode>> {
        self.db
            .fetch_opt(
                concat!(
                    "SELECT ",
                    node_columns!(),
                    " FROM scenario_nodes WHERE exploration_id = ?1 AND parent_id IS NULL",
                    tree_order!(),
                    " LIMIT 1"
                ),
                args![exploration_id],
            )
            .await
    }

    async fn winner(&self, exploration_id: &str) -> Result<Option<ScenarioNode>> {
        self.db
            .fetch_opt(
                concat!(
                    "SELECT ",
                    node_columns!(),
                    " FROM scenario_nodes WHERE exploration_id = ?1 AND node_status = 'winner'",
                    tree_order!(),
                    " LIMIT 1"
                ),
                args![exploration_id],
            )
            .await
    }

    async fn path(&self, node_id: &str) -> Result<Vec<ScenarioNode>> {
        // Walks parent_id upwards; the step bound stops a cycle in damaged legacy data.
        self.db
            .fetch_all(
                concat!(
                    "WITH RECURSIVE chain (node_id, next_id, step) AS (
                         SELECT id, parent_id, 0 FROM scenario_nodes WHERE id = ?1
                         UNION ALL
                         SELECT s.id, s.parent_id, chain.step + 1
                         FROM scenario_nodes s JOIN chain ON s.id = chain.next_id
                         WHERE chain.step < 100000
                     )
                     SELECT ",
                    node_columns!(),
                    " FROM scenario_nodes JOIN chain ON chain.node_id = scenario_nodes.id
                     ORDER BY chain.step DESC"
                ),
                args![node_id],
            )
            .await
    }

    async fn children(&self, node_id: &str) -> Result<Vec<ScenarioNode>> {
        self.db
            .fetch_all(
                concat!(
                    "SELECT ",
                    node_columns!(),
                    " FROM scenario_nodes WHERE parent_id = ?1
                     ORDER BY julianday(created_at) ASC NULLS FIRST, created_at ASC, id ASC"
                ),
                args![node_id],
            )
            .await
    }

    async fn count_by_status(&self, exploration_id: &str) -> Result<Vec<(NodeStatus, i64)>> {
        let counted: Vec<_> = self
            .db
            .fetch_mapped(
                "SELECT node_status, count(*) AS n FROM scenario_nodes
                 WHERE exploration_id = ?1 GROUP BY node_status",
                args![exploration_id],
                status_count_row,
            )
            .await?;
        Ok(node_status_counts(&counted))
    }

    async fn best_node(&self, exploration_id: &str) -> Result<Option<ScenarioNode>> {
        self.db
            .fetch_opt(
                concat!(
                    "SELECT ",
                    node_columns!(),
                    ", json_extract(simulation_results, '$.success_rate') AS rate
                     FROM scenario_nodes
                     WHERE exploration_id = ?1
                       AND json_type(simulation_results, '$.success_rate') IN ('integer', 'real')
                     ORDER BY rate DESC NULLS LAST, id ASC
                     LIMIT 1"
                ),
                args![exploration_id],
            )
            .await
    }
}
