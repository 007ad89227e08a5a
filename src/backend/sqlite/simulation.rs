//! [`SimulationRepository`] over SQLite.

use async_trait::async_trait;

use super::SqliteDb;
use super::row::args;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{NewSimulation, Page, PageRequest, SimulationRun, SimulationStatusUpdate, SimulationSummary, now};
use crate::repo::SimulationRepository;

/// Legacy simulations in the SQLite store.
pub(crate) struct SqliteSimulationRepository {
    db: SqliteDb,
}

impl SqliteSimulationRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSimulationRepository { db }
    }
}

#[async_trait]
impl SimulationRepository for SqliteSimulationRepository {
    async fn create(&self, new: &NewSimulation) -> Result<SimulationRun> {
        self.db
            .fetch_written(
                "INSERT INTO simulation_runs (id, scorecard_id, scenario_id, config, status, started_at,
                                              completed_at, total_synths, aggregated_outcomes, execution_time_seconds)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, 0), ?9, ?10)
                 RETURNING id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                           total_synths, aggregated_outcomes, execution_time_seconds",
                args![
                    new.id,
                    new.scorecard_id,
                    new.scenario_id,
                    new.config,
                    new.status,
                    new.started_at.unwrap_or_else(now),
                    new.completed_at,
                    new.total_synths,
                    new.aggregated_outcomes,
                    new.execution_time_seconds
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SimulationRun>> {
        self.db
            .fetch_opt(
                "SELECT id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                        total_synths, aggregated_outcomes, execution_time_seconds
                 FROM simulation_runs WHERE id = ?1",
                args![id],
            )
            .await
    }

    async fn list_by_scorecard(&self, scorecard_id: &str) -> Result<Vec<SimulationRun>> {
        // julianday() orders legacy timestamp shapes by instant, text breaks ms ties.
        self.db
            .fetch_all(
                "SELECT id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                        total_synths, aggregated_outcomes, execution_time_seconds
                 FROM simulation_runs WHERE scorecard_id = ?1
                 ORDER BY julianday(started_at) DESC, started_at DESC, id DESC",
                args![scorecard_id],
            )
            .await
    }

    async fn list(&self, page: PageRequest) -> Result<Page<SimulationRun>> {
        self.db
            .fetch_page(
                "WITH total AS (SELECT count(*) AS n FROM simulation_runs)
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                            total_synths, aggregated_outcomes, execution_time_seconds,
                            julianday(started_at) AS sort_key
                     FROM simulation_runs
                     ORDER BY julianday(started_at) DESC, started_at DESC, id DESC
                     LIMIT ?1 OFFSET ?2
                 ) p ON 1
                 ORDER BY p.sort_key DESC, p.started_at DESC, p.id DESC",
                args![page.limit, page.offset],
                page,
            )
            .await
    }

    async fn update_status(&self, id: &str, update: &SimulationStatusUpdate) -> Result<SimulationRun> {
        self.db
            .fetch_updated(
                "UPDATE simulation_runs
                 SET status = ?2, completed_at = ?3, total_synths = ?4, aggregated_outcomes = ?5,
                     execution_time_seconds = ?6
                 WHERE id = ?1
                 RETURNING id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                           total_synths, aggregated_outcomes, execution_time_seconds",
                args![
                    id,
                    update.status,
                    update.completed_at,
                    update.total_synths,
                    update.aggregated_outcomes,
                    update.execution_time_seconds
                ],
                format!("simulation {id}"),
            )
            .await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count("DELETE FROM simulation_runs WHERE id = ?1", args![id])
            .await?;
        Ok(deleted > 0)
    }

    async fn summary(&self, id: &str) -> Result<Option<SimulationSummary>> {
        self.db
            .fetch_opt(
                "SELECT s.id, s.scorecard_id, s.scenario_id, s.config, s.status, s.started_at, s.completed_at,
                        s.total_synths, s.aggregated_outcomes, s.execution_time_seconds,
                        (SELECT count(*) FROM region_analyses r WHERE r.simulation_id = s.id) AS region_count,
                        (SELECT count(*) FROM sensitivity_results x WHERE x.simulation_id = s.id) AS sensitivity_count
                 FROM simulation_runs s WHERE s.id = ?1",
                args![id],
            )
            .await
    }
}
