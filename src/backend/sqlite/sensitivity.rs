//! [`SensitivityRepository`] over SQLite.

use async_trait::async_trait;

use super::SqliteDb;
use super::row::args;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{NewSensitivityResult, SensitivityResult, now};
use crate::repo::SensitivityRepository;

/// Sensitivity results in the legacy SQLite store.
pub(crate) struct SqliteSensitivityRepository {
    db: SqliteDb,
}

impl SqliteSensitivityRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSensitivityRepository { db }
    }
}

#[async_trait]
impl SensitivityRepository for SqliteSensitivityRepository {
    async fn save(&self, new: &NewSensitivityResult) -> Result<SensitivityResult> {
        self.db
            .fetch_written(
                "INSERT INTO sensitivity_results (id, simulation_id, analyzed_at, deltas_used, baseline_success,
                                                  most_sensitive_dimension, dimensions, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 RETURNING id, simulation_id, analyzed_at, deltas_used, baseline_success,
                           most_sensitive_dimension, dimensions, created_at",
                args![
                    new.id,
                    new.simulation_id,
                    new.analyzed_at,
                    new.deltas_used,
                    new.baseline_success,
                    new.most_sensitive_dimension,
                    new.dimensions,
                    new.created_at.unwrap_or_else(now)
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SensitivityResult>> {
        self.db
            .fetch_opt(
                "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                        most_sensitive_dimension, dimensions, created_at
                 FROM sensitivity_results WHERE id = ?1",
                args![id],
            )
            .await
    }

    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<SensitivityResult>> {
        // julianday() orders legacy timestamp shapes by instant, text breaks ms ties.
        self.db
            .fetch_all(
                "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                        most_sensitive_dimension, dimensions, created_at
                 FROM sensitivity_results WHERE simulation_id = ?1
                 ORDER BY julianday(analyzed_at) DESC, analyzed_at DESC, id DESC",
                args![simulation_id],
            )
            .await
    }

    async fn latest_by_simulation(&self, simulation_id: &str) -> Result<Option<SensitivityResult>> {
        self.db
            .fetch_opt(
                "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                        most_sensitive_dimension, dimensions, created_at
                 FROM sensitivity_results WHERE simulation_id = ?1
                 ORDER BY julianday(analyzed_at) DESC, analyzed_at DESC, id DESC
                 LIMIT 1",
                args![simulation_id],
            )
            .await
    }

    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64> {
        self.db
            .execute_count(
                "DELETE FROM sensitivity_results WHERE simulation_id = ?1",
                args![simulation_id],
            )
            .await
    }
}
