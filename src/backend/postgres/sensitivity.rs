//! [`SensitivityRepository`] over PostgreSQL.

use async_trait::async_trait;

use super::PgDb;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{NewSensitivityResult, SensitivityResult, now};
use crate::repo::SensitivityRepository;

/// Sensitivity results in PostgreSQL.
pub(crate) struct PgSensitivityRepository {
    db: PgDb,
}

impl PgSensitivityRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSensitivityRepository { db }
    }
}

#[async_trait]
impl SensitivityRepository for PgSensitivityRepository {
    async fn save(&self, new: &NewSensitivityResult) -> Result<SensitivityResult> {
        self.db
            .fetch_written(
                "INSERT INTO sensitivity_results (id, simulation_id, analyzed_at, deltas_used, baseline_success,
                                                  most_sensitive_dimension, dimensions, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 RETURNING id, simulation_id, analyzed_at, deltas_used, baseline_success,
                           most_sensitive_dimension, dimensions, created_at",
                &[
                    &new.id,
                    &new.simulation_id,
                    &new.analyzed_at,
                    &new.deltas_used,
                    &new.baseline_success,
                    &new.most_sensitive_dimension,
                    &new.dimensions,
                    &new.created_at.unwrap_or_else(now),
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SensitivityResult>> {
        self.db
            .fetch_opt(
                "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                        most_sensitive_dimension, dimensions, created_at
                 FROM sensitivity_results WHERE id = $1",
                &[&id],
            )
            .await
    }

    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<SensitivityResult>> {
        self.db
            .fetch_all(
                "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                        most_sensitive_dimension, dimensions, created_at
                 FROM sensitivity_results WHERE simulation_id = $1
                 ORDER BY analyzed_at DESC, id DESC",
                &[&simulation_id],
            )
            .await
    }

    async fn latest_by_simulation(&self, simulation_id: &str) -> Result<Option<SensitivityResult>> {
        self.db
            .fetch_opt(
                "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                        most_sensitive_dimension, dimensions, created_at
                 FROM sensitivity_results WHERE simulation_id = $1
                 ORDER BY analyzed_at DESC, id DESC
                 LIMIT 1",
                &[&simulation_id],
            )
            .await
    }

    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64> {
        self.db
            .execute_count(
                "DELETE FROM sensitivity_results WHERE simulation_id = $1",
                &[&simulation_id],
            )
            .await
    }
}
