//! [`SensitivityRepository`] over PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgDb;
use super::row::{get, json, timestamp};
use crate::Result;
use crate::model::{NewSensitivityResult, SensitivityResult, now};
use crate::repo::SensitivityRepository;

const TABLE: &str = "sensitivity_results";

/// Sensitivity results in PostgreSQL.
pub(crate) struct PgSensitivityRepository {
    db: PgDb,
}

impl PgSensitivityRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSensitivityRepository { db }
    }
}

fn sensitivity(row: &Row) -> Result<SensitivityResult> {
    Ok(SensitivityResult {
        id: get(row, TABLE, "id")?,
        simulation_id: get(row, TABLE, "simulation_id")?,
        analyzed_at: timestamp(row, TABLE, "analyzed_at")?,
        deltas_used: json(row, TABLE, "deltas_used")?,
        baseline_success: get(row, TABLE, "baseline_success")?,
        most_sensitive_dimension: get(row, TABLE, "most_sensitive_dimension")?,
        dimensions: json(row, TABLE, "dimensions")?,
        created_at: timestamp(row, TABLE, "created_at")?,
    })
}

#[async_trait]
impl SensitivityRepository for PgSensitivityRepository {
    async fn save(&self, new: &NewSensitivityResult) -> Result<SensitivityResult> {
        let new = new.clone();
        let created_at = new.created_at.unwrap_or_else(now);
        let row = self
            .db
            .query_one(
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
                    &created_at,
                ],
            )
            .await?;
        sensitivity(&row)
    }

    async fn get(&self, id: &str) -> Result<Option<SensitivityResult>> {
        self.db
            .query_opt(
                "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                        most_sensitive_dimension, dimensions, created_at
                 FROM sensitivity_results WHERE id = $1",
                &[&id],
            )
            .await?
            .as_ref()
            .map(sensitivity)
            .transpose()
    }

    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<SensitivityResult>> {
        self.db
            .query(
                "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                        most_sensitive_dimension, dimensions, created_at
                 FROM sensitivity_results WHERE simulation_id = $1
                 ORDER BY analyzed_at DESC, id DESC",
                &[&simulation_id],
            )
            .await?
            .iter()
            .map(sensitivity)
            .collect()
    }

    async fn latest_by_simulation(&self, simulation_id: &str) -> Result<Option<SensitivityResult>> {
        self.db
            .query_opt(
                "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                        most_sensitive_dimension, dimensions, created_at
                 FROM sensitivity_results WHERE simulation_id = $1
                 ORDER BY analyzed_at DESC, id DESC
                 LIMIT 1",
                &[&simulation_id],
            )
            .await?
            .as_ref()
            .map(sensitivity)
            .transpose()
    }

    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64> {
        self.db
            .execute(
                "DELETE FROM sensitivity_results WHERE simulation_id = $1",
                &[&simulation_id],
            )
            .await
    }
}
