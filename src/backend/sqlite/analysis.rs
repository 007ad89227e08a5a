//! [`AnalysisRepository`] over SQLite.

use async_trait::async_trait;

use super::SqliteDb;
use super::row::args;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{AnalysisRun, AnalysisStatusUpdate, NewAnalysisRun, now};
use crate::repo::AnalysisRepository;

/// Analysis runs in the legacy SQLite store.
pub(crate) struct SqliteAnalysisRepository {
    db: SqliteDb,
}

impl SqliteAnalysisRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteAnalysisRepository { db }
    }
}

#[async_trait]
impl AnalysisRepository for SqliteAnalysisRepository {
    async fn create(&self, new: &NewAnalysisRun) -> Result<AnalysisRun> {
        self.db
            .fetch_written(
                "INSERT INTO analysis_runs (id, experiment_id, scenario_id, config, status, started_at, total_synths)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)
                 RETURNING id, experiment_id, scenario_id, config, status, started_at, completed_at,
                           total_synths, aggregated_outcomes, execution_time_seconds",
                args![
                    new.id,
                    new.experiment_id,
                    new.scenario_id,
                    new.config,
                    new.status,
                    new.started_at.unwrap_or_else(now)
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<AnalysisRun>> {
        self.db
            .fetch_opt(
                "SELECT id, experiment_id, scenario_id, config, status, started_at, completed_at,
                        total_synths, aggregated_outcomes, execution_time_seconds
                 FROM analysis_runs WHERE id = ?1",
                args![id],
            )
            .await
    }

    async fn get_by_experiment(&self, experiment_id: &str) -> Result<Option<AnalysisRun>> {
        // experiment_id is UNIQUE: at most one row.
        self.db
            .fetch_opt(
                "SELECT id, experiment_id, scenario_id, config, status, started_at, completed_at,
                        total_synths, aggregated_outcomes, execution_time_seconds
                 FROM analysis_runs WHERE experiment_id = ?1",
                args![experiment_id],
            )
            .await
    }

    async fn update_status(&self, id: &str, update: &AnalysisStatusUpdate) -> Result<AnalysisRun> {
        self.db
            .fetch_updated(
                "UPDATE analysis_runs
                 SET status = ?2, completed_at = coalesce(?3, completed_at),
                     total_synths = coalesce(?4, total_synths),
                     aggregated_outcomes = coalesce(?5, aggregated_outcomes),
                     execution_time_seconds = coalesce(?6, execution_time_seconds)
                 WHERE id = ?1
                 RETURNING id, experiment_id, scenario_id, config, status, started_at, completed_at,
                           total_synths, aggregated_outcomes, execution_time_seconds",
                args![
                    id,
                    update.status,
                    update.completed_at,
                    update.total_synths,
                    update.aggregated_outcomes,
                    update.execution_time_seconds
                ],
                format!("analysis run {id}"),
            )
            .await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count("DELETE FROM analysis_runs WHERE id = ?1", args![id])
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_by_experiment(&self, experiment_id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count(
                "DELETE FROM analysis_runs WHERE experiment_id = ?1",
                args![experiment_id],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn latest_completed_id(&self, experiment_id: &str) -> Result<Option<String>> {
        // experiment_id is UNIQUE, so "latest" is the one run if it has completed.
        self.db
            .fetch_value(
                "SELECT id AS value FROM analysis_runs WHERE experiment_id = ?1 AND status = 'completed'",
                args![experiment_id],
            )
            .await
    }
}
