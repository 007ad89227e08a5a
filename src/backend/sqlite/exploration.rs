//! [`ExplorationRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use serde_json::Value;

use super::SqliteDb;
use super::row::{
    enumerated, int, json, json_param, opt_float, opt_json, opt_json_param, opt_string, opt_timestamp, opt_ts_param,
    string, timestamp, ts_param,
};
use crate::model::{
    Exploration, ExplorationChanges, NewExploration, NewScenarioNode, NodeStatus, ScenarioNode, ScenarioNodeChanges,
    now, truncate,
};
use crate::repo::ExplorationRepository;
use crate::{Error, Result};

const EXPLORATIONS: &str = "explorations";
const NODES: &str = "scenario_nodes";

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

fn exploration(row: &Row<'_>) -> Result<Exploration> {
    Ok(Exploration {
        id: string(row, EXPLORATIONS, "id")?,
        experiment_id: string(row, EXPLORATIONS, "experiment_id")?,
        baseline_analysis_id: string(row, EXPLORATIONS, "baseline_analysis_id")?,
        goal: json(row, EXPLORATIONS, "goal")?,
        config: json(row, EXPLORATIONS, "config")?,
        status: enumerated(row, EXPLORATIONS, "status")?,
        current_depth: int(row, EXPLORATIONS, "current_depth")?,
        total_nodes: int(row, EXPLORATIONS, "total_nodes")?,
        total_llm_calls: int(row, EXPLORATIONS, "total_llm_calls")?,
        best_success_rate: opt_float(row, EXPLORATIONS, "best_success_rate")?,
        started_at: timestamp(row, EXPLORATIONS, "started_at")?,
        completed_at: opt_timestamp(row, EXPLORATIONS, "completed_at")?,
    })
}

fn node(row: &Row<'_>) -> Result<ScenarioNode> {
    Ok(ScenarioNode {
        id: string(row, NODES, "id")?,
        exploration_id: string(row, NODES, "exploration_id")?,
        parent_id: opt_string(row, NODES, "parent_id")?,
        depth: int(row, NODES, "depth")?,
        action_applied: opt_string(row, NODES, "action_applied")?,
        action_category: opt_string(row, NODES, "action_category")?,
        rationale: opt_string(row, NODES, "rationale")?,
        short_action: opt_string(row, NODES, "short_action")?,
        scorecard_params: json(row, NODES, "scorecard_params")?,
        simulation_results: opt_json(row, NODES, "simulation_results")?,
        execution_time_seconds: opt_float(row, NODES, "execution_time_seconds")?,
        node_status: enumerated(row, NODES, "node_status")?,
        created_at: timestamp(row, NODES, "created_at")?,
    })
}

fn nodes_of(conn: &Connection, sql: &str, key: &str) -> Result<Vec<ScenarioNode>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([key])?;
    let mut items = Vec::new();
    while let Some(row) = rows.next()? {
        items.push(node(row)?);
    }
    Ok(items)
}

fn node_updated(id: &str, row: Option<&Row<'_>>) -> Result<ScenarioNode> {
    row.map(node)
        .transpose()?
        .ok_or_else(|| Error::not_found(format!("scenario node {id}")))
}

#[async_trait]
impl ExplorationRepository for SqliteExplorationRepository {
    async fn create(&self, new: &NewExploration) -> Result<Exploration> {
        let new = new.clone();
        let started_at = new.started_at.map(truncate).unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(concat!(
                    "INSERT INTO explorations (id, experiment_id, baseline_analysis_id, goal, config, status,
                         current_depth, total_nodes, total_llm_calls, started_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'running', 0, 0, 0, ?6)
                     RETURNING ",
                    exploration_columns!()
                ))?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.experiment_id,
                    new.baseline_analysis_id,
                    json_param(&new.goal),
                    json_param(&new.config),
                    ts_param(&started_at)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                exploration(row)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<Exploration>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(concat!(
                    "SELECT ",
                    exploration_columns!(),
                    " FROM explorations WHERE id = ?1"
                ))?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(exploration).transpose()
            })
            .await
    }

    async fn update(&self, id: &str, changes: &ExplorationChanges) -> Result<Exploration> {
        let (id, changes) = (id.to_owned(), changes.clone());
        let completed_at = opt_ts_param(&changes.completed_at.map(truncate));
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(concat!(
                    "UPDATE explorations
                     SET status = coalesce(?2, status), current_depth = coalesce(?3, current_depth),
                         total_nodes = coalesce(?4, total_nodes), total_llm_calls = coalesce(?5, total_llm_calls),
                         best_success_rate = coalesce(?6, best_success_rate),
                         completed_at = coalesce(?7, completed_at)
                     WHERE id = ?1
                     RETURNING ",
                    exploration_columns!()
                ))?;
                let mut rows = stmt.query(params![
                    id,
                    changes.status.map(|s| s.as_str()),
                    changes.current_depth,
                    changes.total_nodes,
                    changes.total_llm_calls,
                    changes.best_success_rate,
                    completed_at
                ])?;
                rows.next()?
                    .map(exploration)
                    .transpose()?
                    .ok_or_else(|| Error::not_found(format!("exploration {id}")))
            })
            .await
    }

    async fn list_by_experiment(&self, experiment_id: &str) -> Result<Vec<Exploration>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(concat!(
                    "SELECT ",
                    exploration_columns!(),
                    " FROM explorations WHERE experiment_id = ?1
                     ORDER BY julianday(started_at) DESC NULLS LAST, started_at DESC, id DESC"
                ))?;
                let mut rows = stmt.query([experiment_id])?;
                let mut items = Vec::new();
                while let Some(row) = rows.next()? {
                    items.push(exploration(row)?);
                }
                Ok(items)
            })
            .await
    }

    async fn create_node(&self, new: &NewScenarioNode) -> Result<ScenarioNode> {
        let new = new.clone();
        let created_at = new.created_at.map(truncate).unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(concat!(
                    "INSERT INTO scenario_nodes (",
                    node_columns!(),
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                     RETURNING ",
                    node_columns!()
                ))?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.exploration_id,
                    new.parent_id,
                    new.depth,
                    new.action_applied,
                    new.action_category,
                    new.rationale,
                    new.short_action,
                    json_param(&new.scorecard_params),
                    opt_json_param(&new.simulation_results),
                    new.execution_time_seconds,
                    new.node_status.as_str(),
                    ts_param(&created_at)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                node(row)
            })
            .await
    }

    async fn get_node(&self, id: &str) -> Result<Option<ScenarioNode>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let found = nodes_of(
                    conn,
                    concat!("SELECT ", node_columns!(), " FROM scenario_nodes WHERE id = ?1"),
                    &id,
                )?;
                Ok(found.into_iter().next())
            })
            .await
    }

    async fn update_node(&self, id: &str, changes: &ScenarioNodeChanges) -> Result<ScenarioNode> {
        let (id, changes) = (id.to_owned(), changes.clone());
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(concat!(
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
                ))?;
                let mut rows = stmt.query(params![
                    id,
                    changes.action_applied,
                    changes.action_category,
                    changes.rationale,
                    changes.short_action,
                    opt_json_param(&changes.scorecard_params),
                    opt_json_param(&changes.simulation_results),
                    changes.execution_time_seconds,
                    changes.node_status.map(|s| s.as_str())
                ])?;
                node_updated(&id, rows.next()?)
            })
            .await
    }

    async fn update_node_status(&self, id: &str, status: NodeStatus) -> Result<ScenarioNode> {
        let id = id.to_owned();
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(concat!(
                    "UPDATE scenario_nodes SET node_status = ?2 WHERE id = ?1 RETURNING ",
                    node_columns!()
                ))?;
                let mut rows = stmt.query(params![id, status.as_str()])?;
                node_updated(&id, rows.next()?)
            })
            .await
    }

    async fn update_node_results(
        &self,
        id: &str,
        results: &Value,
        execution_time_seconds: f64,
    ) -> Result<ScenarioNode> {
        let results = results.clone();
        let (id, results) = (id.to_owned(), json_param(&results));
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(concat!(
                    "UPDATE scenario_nodes SET simulation_results = ?2, execution_time_seconds = ?3
                     WHERE id = ?1 RETURNING ",
                    node_columns!()
                ))?;
                let mut rows = stmt.query(params![id, results, execution_time_seconds])?;
                node_updated(&id, rows.next()?)
            })
            .await
    }

    async fn nodes(&self, exploration_id: &str) -> Result<Vec<ScenarioNode>> {
        let exploration_id = exploration_id.to_owned();
        self.db
            .read(move |conn| {
                nodes_of(
                    conn,
                    concat!(
                        "SELECT ",
                        node_columns!(),
                        " FROM scenario_nodes WHERE exploration_id = ?1",
                        tree_order!()
                    ),
                    &exploration_id,
                )
            })
            .await
    }

    async fn frontier(&self, exploration_id: &str) -> Result<Vec<ScenarioNode>> {
        let exploration_id = exploration_id.to_owned();
        self.db
            .read(move |conn| {
                nodes_of(
                    conn,
                    concat!(
                        "SELECT ",
                        node_columns!(),
                        " FROM scenario_nodes n
                         WHERE n.exploration_id = ?1 AND n.node_status = 'active'
                           AND NOT EXISTS (SELECT 1 FROM scenario_nodes c WHERE c.parent_id = n.id)",
                        tree_order!()
                    ),
                    &exploration_id,
                )
            })
            .await
    }

    async fn root(&self, exploration_id: &str) -> Result<Option<ScenarioNode>> {
        let exploration_id = exploration_id.to_owned();
        self.db
            .read(move |conn| {
                let found = nodes_of(
                    conn,
                    concat!(
                        "SELECT ",
                        node_columns!(),
                        " FROM scenario_nodes WHERE exploration_id = ?1 AND parent_id IS NULL",
                        tree_order!(),
                        " LIMIT 1"
                    ),
                    &exploration_id,
                )?;
                Ok(found.into_iter().next())
            })
            .await
    }

    async fn winner(&self, exploration_id: &str) -> Result<Option<ScenarioNode>> {
        let exploration_id = exploration_id.to_owned();
        self.db
            .read(move |conn| {
                let found = nodes_of(
                    conn,
                    concat!(
                        "SELECT ",
                        node_columns!(),
                        " FROM scenario_nodes WHERE exploration_id = ?1 AND node_status = 'winner'",
                        tree_order!(),
                        " LIMIT 1"
                    ),
                    &exploration_id,
                )?;
                Ok(found.into_iter().next())
            })
            .await
    }

    async fn path(&self, node_id: &str) -> Result<Vec<ScenarioNode>> {
        let node_id = node_id.to_owned();
        self.db
            .read(move |conn| {
                // Walks parent_id upwards; the step bound stops a cycle in damaged legacy data.
                nodes_of(
                    conn,
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
                    &node_id,
                )
            })
            .await
    }

    async fn children(&self, node_id: &str) -> Result<Vec<ScenarioNode>> {
        let node_id = node_id.to_owned();
        self.db
            .read(move |conn| {
                nodes_of(
                    conn,
                    concat!(
                        "SELECT ",
                        node_columns!(),
                        " FROM scenario_nodes WHERE parent_id = ?1
                         ORDER BY julianday(created_at) ASC NULLS FIRST, created_at ASC, id ASC"
                    ),
                    &node_id,
                )
            })
            .await
    }

    async fn count_by_status(&self, exploration_id: &str) -> Result<Vec<(NodeStatus, i64)>> {
        let exploration_id = exploration_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT node_status, count(*) AS n FROM scenario_nodes
                     WHERE exploration_id = ?1 GROUP BY node_status",
                )?;
                let mut rows = stmt.query([exploration_id])?;
                let mut counted = Vec::new();
                while let Some(row) = rows.next()? {
                    counted.push((
                        enumerated::<NodeStatus>(row, NODES, "node_status")?,
                        int(row, NODES, "n")?,
                    ));
                }
                Ok(crate::model::node_status_counts(&counted))
            })
            .await
    }

    async fn best_node(&self, exploration_id: &str) -> Result<Option<ScenarioNode>> {
        let exploration_id = exploration_id.to_owned();
        self.db
            .read(move |conn| {
                let found = nodes_of(
                    conn,
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
                    &exploration_id,
                )?;
                Ok(found.into_iter().next())
            })
            .await
    }
}
