//! [`AnalysisRepository`] over PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgDb;
use super::row::{enumerated, get, json, opt_json, opt_timestamp, timestamp};
use crate::model::{AnalysisRun, AnalysisStatusUpdate, NewAnalysisRun, now};
use crate::repo::AnalysisRepository;
use crate::{Error, Result};

const TABLE: &str = "analysis_runs";

/// Analysis runs in PostgreSQL.
pub(crate) struct PgAnalysisRepository {
    db: PgDb,
}

impl PgAnalysisRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgAnalysisRepository { db }
    }
}

fn analysis_run(row: &Row) -> Result<AnalysisRun> {
    Ok(AnalysisRun {
        id: get(row, TABLE, "id")?,
        experiment_id: get(row, TABLE, "experiment_id")?,
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
impl AnalysisRepository for PgAnalysisRepository {
    async fn create(&self, new: &NewAnalysisRun) -> Result<AnalysisRun> {
        let new = new.clone();
        let started_at = new.started_at.unwrap_or_else(now);
        let row = self
            .db
            .query_one(
                "INSERT INTO analysis_runs (id, experiment_id, scenario_id, config, status, started_at, total_synths)
                 VALUES ($1, $2, $3, $4, $5, $6, 0)
                 RETURNING id, experiment_id, scenario_id, config, status, started_at, completed_at,
                           total_synths, aggregated_outcomes, execution_time_seconds",
                &[
                    &new.id,
                    &new.experiment_id,
                    &new.scenario_id,
                    &new.config,
                    &new.status.as_str(),
                    &started_at,
                ],
            )
            .await?;
        analysis_run(&row)
    }

    async fn get(&self, id: &str) -> Result<Option<AnalysisRun>> {
        self.db
            .query_opt(
                "SELECT id, experiment_id, scenario_id, config, status, started_at, completed_at,
                        total_synths, aggregated_outcomes, execution_time_seconds
                 FROM analysis_runs WHERE id = $1",
                &[&id],
            )
            .await?
            .as_ref()
            .map(analysis_run)
            .transpose()
    }

    async fn get_by_experiment(&self, experiment_id: &str) -> Result<Option<AnalysisRun>> {
        // experiment_id is UNIQUE: at most one row.
        self.db
            .query_opt(
                "SELECT id, experiment_id, scenario_id, config, status, started_at, completed_at,
                        total_synths, aggregated_outcomes, execution_time_seconds
                 FROM analysis_runs WHERE experiment_id = $1",
                &[&experiment_id],
            )
            .await?
            .as_ref()
            .map(analysis_run)
            .transpose()
    }

    async fn update_status(&self, id: &str, update: &AnalysisStatusUpdate) -> Result<AnalysisRun> {
        let update = update.clone();
        self.db
            .query_opt(
                "UPDATE analysis_runs
                 SET status = $2, completed_at = coalesce($3, completed_at),
                     total_synths = coalesce($4, total_synths),
                     aggregated_outcomes = coalesce($5, aggregated_outcomes),
                     execution_time_seconds = coalesce($6, execution_time_seconds)
                 WHERE id = $1
                 RETURNING id, experiment_id, scenario_id, config, status, started_at, completed_at,
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
            .map(analysis_run)
            .transpose()?
            .ok_or_else(|| Error::not_found(format!("analysis run {id}")))
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute("DELETE FROM analysis_runs WHERE id = $1", &[&id])
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_by_experiment(&self, experiment_id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute("DELETE FROM analysis_runs WHERE experiment_id = $1", &[&experiment_id])
            .await?;
        Ok(deleted > 0)
    }

    async fn latest_completed_id(&self, experiment_id: &str) -> Result<Option<String>> {
        // experiment_id is UNIQUE, so "latest" is the one run if it has completed.
        self.db
            .query_opt(
                "SELECT id FROM analysis_runs WHERE experiment_id = $1 AND status = 'completed'",
                &[&experiment_id],
            )
            .await?
            .as_ref()
            .map(|row| get(row, TABLE, "id"))
            .transpose()
    }
}
