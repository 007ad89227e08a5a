//! [`SimulationRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::SqliteDb;
use super::row::{
    enumerated, int, json, json_param, opt_float, opt_int, opt_json, opt_json_param, opt_string, opt_timestamp,
    opt_ts_param, string, timestamp, ts_param,
};
use crate::model::{NewSimulation, Page, PageRequest, SimulationRun, SimulationStatusUpdate, SimulationSummary, now};
use crate::repo::SimulationRepository;
use crate::{Error, Result};

const TABLE: &str = "simulation_runs";

/// Legacy simulations in the SQLite store.
pub(crate) struct SqliteSimulationRepository {
    db: SqliteDb,
}

impl SqliteSimulationRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSimulationRepository { db }
    }
}

fn simulation(row: &Row<'_>) -> Result<SimulationRun> {
    Ok(SimulationRun {
        id: string(row, TABLE, "id")?,
        scorecard_id: string(row, TABLE, "scorecard_id")?,
        scenario_id: string(row, TABLE, "scenario_id")?,
        config: json(row, TABLE, "config")?,
        status: enumerated(row, TABLE, "status")?,
        started_at: timestamp(row, TABLE, "started_at")?,
        completed_at: opt_timestamp(row, TABLE, "completed_at")?,
        total_synths: opt_int(row, TABLE, "total_synths")?,
        aggregated_outcomes: opt_json(row, TABLE, "aggregated_outcomes")?,
        execution_time_seconds: opt_float(row, TABLE, "execution_time_seconds")?,
    })
}

#[async_trait]
impl SimulationRepository for SqliteSimulationRepository {
    async fn create(&self, new: &NewSimulation) -> Result<SimulationRun> {
        let new = new.clone();
        let started_at = new.started_at.unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO simulation_runs (id, scorecard_id, scenario_id, config, status, started_at,
                                                  completed_at, total_synths, aggregated_outcomes, execution_time_seconds)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, 0), ?9, ?10)
                     RETURNING id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                               total_synths, aggregated_outcomes, execution_time_seconds",
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.scorecard_id,
                    new.scenario_id,
                    json_param(&new.config),
                    new.status.as_str(),
                    ts_param(&started_at),
                    opt_ts_param(&new.completed_at),
                    new.total_synths,
                    opt_json_param(&new.aggregated_outcomes),
                    new.execution_time_seconds
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                simulation(row)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SimulationRun>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                            total_synths, aggregated_outcomes, execution_time_seconds
                     FROM simulation_runs WHERE id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(simulation).transpose()
            })
            .await
    }

    async fn list_by_scorecard(&self, scorecard_id: &str) -> Result<Vec<SimulationRun>> {
        let scorecard_id = scorecard_id.to_owned();
        self.db
            .read(move |conn| {
                // julianday() orders legacy timestamp shapes by instant, text breaks ms ties.
                let mut stmt = conn.prepare_cached(
                    "SELECT id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                            total_synths, aggregated_outcomes, execution_time_seconds
                     FROM simulation_runs WHERE scorecard_id = ?1
                     ORDER BY julianday(started_at) DESC, started_at DESC, id DESC",
                )?;
                let mut rows = stmt.query([scorecard_id])?;
                let mut items = Vec::new();
                while let Some(row) = rows.next()? {
                    items.push(simulation(row)?);
                }
                Ok(items)
            })
            .await
    }

    async fn list(&self, page: PageRequest) -> Result<Page<SimulationRun>> {
        self.db
            .read(move |conn| {
                // One statement, so the total and the page come from the same snapshot.
                let mut stmt = conn.prepare_cached(
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
                )?;
                let mut rows = stmt.query(params![page.limit, page.offset])?;
                let mut items = Vec::new();
                let mut total = 0;
                while let Some(row) = rows.next()? {
                    total = int(row, TABLE, "total")?;
                    if opt_string(row, TABLE, "id")?.is_some() {
                        items.push(simulation(row)?);
                    }
                }
                Ok(Page::new(items, total, page))
            })
            .await
    }

    async fn update_status(&self, id: &str, update: &SimulationStatusUpdate) -> Result<SimulationRun> {
        let (id, update) = (id.to_owned(), update.clone());
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "UPDATE simulation_runs
                     SET status = ?2, completed_at = ?3, total_synths = ?4, aggregated_outcomes = ?5,
                         execution_time_seconds = ?6
                     WHERE id = ?1
                     RETURNING id, scorecard_id, scenario_id, config, status, started_at, completed_at,
                               total_synths, aggregated_outcomes, execution_time_seconds",
                )?;
                let mut rows = stmt.query(params![
                    id,
                    update.status.as_str(),
                    opt_ts_param(&update.completed_at),
                    update.total_synths,
                    opt_json_param(&update.aggregated_outcomes),
                    update.execution_time_seconds
                ])?;
                rows.next()?
                    .map(simulation)
                    .transpose()?
                    .ok_or_else(|| Error::not_found(format!("simulation {id}")))
            })
            .await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        let deleted = self
            .db
            .execute("DELETE FROM simulation_runs WHERE id = ?1", [id])
            .await?;
        Ok(deleted > 0)
    }

    async fn summary(&self, id: &str) -> Result<Option<SimulationSummary>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT s.id, s.scorecard_id, s.scenario_id, s.config, s.status, s.started_at, s.completed_at,
                            s.total_synths, s.aggregated_outcomes, s.execution_time_seconds,
                            (SELECT count(*) FROM region_analyses r WHERE r.simulation_id = s.id) AS region_count,
                            (SELECT count(*) FROM sensitivity_results x WHERE x.simulation_id = s.id) AS sensitivity_count
                     FROM simulation_runs s WHERE s.id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                let Some(row) = rows.next()? else {
                    return Ok(None);
                };
                Ok(Some(SimulationSummary {
                    simulation: simulation(row)?,
                    region_count: int(row, TABLE, "region_count")?,
                    sensitivity_count: int(row, TABLE, "sensitivity_count")?,
                }))
            })
            .await
    }
}
