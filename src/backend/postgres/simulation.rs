//! [`SimulationRepository`] over PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgDb;
use super::row::{enumerated, get, json, opt_json, opt_timestamp, timestamp};
use crate::model::{NewSimulation, Page, PageRequest, SimulationRun, SimulationStatusUpdate, SimulationSummary, now};
use crate::repo::SimulationRepository;
use crate::{Error, Result};

const TABLE: &str = "simulation_runs";

/// Legacy simulations in PostgreSQL.
pub(crate) struct PgSimulationRepository {
    db: PgDb,
}

impl PgSimulationRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSimulationRepository { db }
    }
}

fn simulation(row: &Row) -> Result<SimulationRun> {
    Ok(SimulationRun {
        id: get(row, TABLE, "id")?,
        scorecard_id: get(row, TABLE, "scorecard_id")?,
        scenario_id: get(row, TABLE, "scenario_id")?,
        config: json(row, TABLE, "config")?,
        status: enumerated(row, TABLE, "status")?,
        started_at: timestamp(row, TABLE, "started_at")?,
        completed_at: opt_timestamp(row, TABLE, "completed_at")?,
        total_synths: get(row, TABLE, "total_synths")?,
        aggregated_outcomes: opt_json(row, TABLE, "aggregated_outcomes")?,
        execution_time_seconds: get(row, TABLE, "execution_time_seconds")?,
    })
}

#[async_trait]
impl SimulationRepository for PgSimulationRepository {
    async fn create(&self, new: &NewSimulation) -> Result<SimulationRun> {
        let new = new.clone();
        let started_at = new.started_at.unwrap_or_else(now);
        let row = self
            .db
            .query_one(
                "INSERT INTO simulation_runs (id, scorecard_id, scenario_id, config, status, started_at,
                                              completed_at, total_synths, aggregated_outcomes, execution_time_seconds)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8::int8, 0), $9, $10)
                 RETURNING id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                           total_synths, aggregated_outcomes, execution_time_seconds",
                &[
                    &new.id,
                    &new.scorecard_id,
                    &new.scenario_id,
                    &new.config,
                    &new.status.as_str(),
                    &started_at,
                    &new.completed_at,
                    &new.total_synths,
                    &new.aggregated_outcomes,
                    &new.execution_time_seconds,
                ],
            )
            .await?;
        simulation(&row)
    }

    async fn get(&self, id: &str) -> Result<Option<SimulationRun>> {
        self.db
            .query_opt(
                "SELECT id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                        total_synths, aggregated_outcomes, execution_time_seconds
                 FROM simulation_runs WHERE id = $1",
                &[&id],
            )
            .await?
            .as_ref()
            .map(simulation)
            .transpose()
    }

    async fn list_by_scorecard(&self, scorecard_id: &str) -> Result<Vec<SimulationRun>> {
        self.db
            .query(
                "SELECT id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                        total_synths, aggregated_outcomes, execution_time_seconds
                 FROM simulation_runs WHERE scorecard_id = $1
                 ORDER BY started_at DESC, id DESC",
                &[&scorecard_id],
            )
            .await?
            .iter()
            .map(simulation)
            .collect()
    }

    async fn list(&self, page: PageRequest) -> Result<Page<SimulationRun>> {
        // One statement, so the total and the page come from the same snapshot.
        let rows = self
            .db
            .query(
                "WITH total AS (SELECT count(*) AS n FROM simulation_runs)
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                            total_synths, aggregated_outcomes, execution_time_seconds
                     FROM simulation_runs
                     ORDER BY started_at DESC, id DESC
                     LIMIT $1 OFFSET $2
                 ) p ON true
                 ORDER BY p.started_at DESC, p.id DESC",
                &[&page.limit, &page.offset],
            )
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut total = 0;
        for row in &rows {
            total = get(row, TABLE, "total")?;
            if get::<Option<&str>>(row, TABLE, "id")?.is_some() {
                items.push(simulation(row)?);
            }
        }
        Ok(Page::new(items, total, page))
    }

    async fn update_status(&self, id: &str, update: &SimulationStatusUpdate) -> Result<SimulationRun> {
        let update = update.clone();
        self.db
            .query_opt(
                "UPDATE simulation_runs
                 SET status = $2, completed_at = $3, total_synths = $4, aggregated_outcomes = $5,
                     execution_time_seconds = $6
                 WHERE id = $1
                 RETURNING id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                           total_synths, aggregated_outcomes, execution_time_seconds",
                &[
                    &id,
                    &update.status.as_str(),
                    &update.completed_at,
                    &update.total_synths,
                    &update.aggregated_outcomes,
                    &update.execution_time_seconds,
                ],
            )
            .await?
            .as_ref()
            .map(simulation)
            .transpose()?
            .ok_or_else(|| Error::not_found(format!("simulation {id}")))
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute("DELETE FROM simulation_runs WHERE id = $1", &[&id])
            .await?;
        Ok(deleted > 0)
    }

    async fn summary(&self, id: &str) -> Result<Option<SimulationSummary>> {
        let Some(row) = self
            .db
            .query_opt(
                "SELECT s.id, s.scorecard_id, s.scenario_id, s.config, s.status, s.started_at, s.completed_at,
                        s.total_synths, s.aggregated_outcomes, s.execution_time_seconds,
                        (SELECT count(*) FROM region_analyses r WHERE r.simulation_id = s.id) AS region_count,
                        (SELECT count(*) FROM sensitivity_results x WHERE x.simulation_id = s.id) AS sensitivity_count
                 FROM simulation_runs s WHERE s.id = $1",
                &[&id],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(SimulationSummary {
            simulation: simulation(&row)?,
            region_count: get(&row, TABLE, "region_count")?,
            sensitivity_count: get(&row, TABLE, "sensitivity_count")?,
        }))
    }
}
