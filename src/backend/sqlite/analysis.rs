//! [`AnalysisRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::SqliteDb;
use super::row::{
    enumerated, json, opt_float, opt_int, opt_json, opt_json_param, opt_timestamp, opt_ts_param, string, timestamp,
    ts_param,
};
use crate::model::{AnalysisRun, AnalysisStatusUpdate, NewAnalysisRun, now};
use crate::repo::AnalysisRepository;
use crate::{Error, Result};

const TABLE: &str = "analysis_runs";

/// Analysis runs in the legacy SQLite store.
pub(crate) struct SqliteAnalysisRepository {
    db: SqliteDb,
}

impl SqliteAnalysisRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteAnalysisRepository { db }
    }
}

fn analysis_run(row: &Row<'_>) -> Result<AnalysisRun> {
    Ok(AnalysisRun {
        id: string(row, TABLE, "id")?,
        experiment_id: string(row, TABLE, "experiment_id")?,
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
impl AnalysisRepository for SqliteAnalysisRepository {
    async fn create(&self, new: &NewAnalysisRun) -> Result<AnalysisRun> {
        let new = new.clone();
        let started_at = new.started_at.unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO analysis_runs (id, experiment_id, scenario_id, config, status, started_at, total_synths)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)
                     RETURNING id, experiment_id, scenario_id, config, status, started_at, completed_at,
                               total_synths, aggregated_outcomes, execution_time_seconds",
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.experiment_id,
                    new.scenario_id,
                    new.config.to_string(),
                    new.status.as_str(),
                    ts_param(&started_at)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                analysis_run(row)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<AnalysisRun>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, experiment_id, scenario_id, config, status, started_at, completed_at,
                            total_synths, aggregated_outcomes, execution_time_seconds
                     FROM analysis_runs WHERE id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(analysis_run).transpose()
            })
            .await
    }

    async fn get_by_experiment(&self, experiment_id: &str) -> Result<Option<AnalysisRun>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                // experiment_id is UNIQUE: at most one row.
                let mut stmt = conn.prepare_cached(
                    "SELECT id, experiment_id, scenario_id, config, status, started_at, completed_at,
                            total_synths, aggregated_outcomes, execution_time_seconds
                     FROM analysis_runs WHERE experiment_id = ?1",
                )?;
                let mut rows = stmt.query([experiment_id])?;
                rows.next()?.map(analysis_run).transpose()
            })
            .await
    }

    async fn update_status(&self, id: &str, update: &AnalysisStatusUpdate) -> Result<AnalysisRun> {
        let (id, update) = (id.to_owned(), update.clone());
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "UPDATE analysis_runs
                     SET status = ?2, completed_at = coalesce(?3, completed_at),
                         total_synths = coalesce(?4, total_synths),
                         aggregated_outcomes = coalesce(?5, aggregated_outcomes),
                         execution_time_seconds = coalesce(?6, execution_time_seconds)
                     WHERE id = ?1
                     RETURNING id, experiment_id, scenario_id, config, status, started_at, completed_at,
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
                    .map(analysis_run)
                    .transpose()?
                    .ok_or_else(|| Error::not_found(format!("analysis run {id}")))
            })
            .await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        let deleted = self.db.execute("DELETE FROM analysis_runs WHERE id = ?1", [id]).await?;
        Ok(deleted > 0)
    }

    async fn delete_by_experiment(&self, experiment_id: &str) -> Result<bool> {
        let experiment_id = experiment_id.to_owned();
        let deleted = self
            .db
            .execute("DELETE FROM analysis_runs WHERE experiment_id = ?1", [experiment_id])
            .await?;
        Ok(deleted > 0)
    }

    async fn latest_completed_id(&self, experiment_id: &str) -> Result<Option<String>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                // experiment_id is UNIQUE, so "latest" is the one run if it has completed.
                let mut stmt = conn
                    .prepare_cached("SELECT id FROM analysis_runs WHERE experiment_id = ?1 AND status = 'completed'")?;
                let mut rows = stmt.query([experiment_id])?;
                rows.next()?.map(|row| string(row, TABLE, "id")).transpose()
            })
            .await
    }
}
