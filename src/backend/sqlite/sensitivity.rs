//! [`SensitivityRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::SqliteDb;
use super::row::{float, json, json_param, string, timestamp, ts_param};
use crate::model::{NewSensitivityResult, SensitivityResult, now};
use crate::repo::SensitivityRepository;
use crate::{Error, Result};

const TABLE: &str = "sensitivity_results";

/// Sensitivity results in the legacy SQLite store.
pub(crate) struct SqliteSensitivityRepository {
    db: SqliteDb,
}

impl SqliteSensitivityRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSensitivityRepository { db }
    }
}

fn sensitivity(row: &Row<'_>) -> Result<SensitivityResult> {
    Ok(SensitivityResult {
        id: string(row, TABLE, "id")?,
        simulation_id: string(row, TABLE, "simulation_id")?,
        analyzed_at: timestamp(row, TABLE, "analyzed_at")?,
        deltas_used: json(row, TABLE, "deltas_used")?,
        baseline_success: float(row, TABLE, "baseline_success")?,
        most_sensitive_dimension: string(row, TABLE, "most_sensitive_dimension")?,
        dimensions: json(row, TABLE, "dimensions")?,
        created_at: timestamp(row, TABLE, "created_at")?,
    })
}

#[async_trait]
impl SensitivityRepository for SqliteSensitivityRepository {
    async fn save(&self, new: &NewSensitivityResult) -> Result<SensitivityResult> {
        let new = new.clone();
        let created_at = new.created_at.unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO sensitivity_results (id, simulation_id, analyzed_at, deltas_used, baseline_success,
                                                      most_sensitive_dimension, dimensions, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     RETURNING id, simulation_id, analyzed_at, deltas_used, baseline_success,
                               most_sensitive_dimension, dimensions, created_at",
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.simulation_id,
                    ts_param(&new.analyzed_at),
                    json_param(&new.deltas_used),
                    new.baseline_success,
                    new.most_sensitive_dimension,
                    json_param(&new.dimensions),
                    ts_param(&created_at)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                sensitivity(row)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SensitivityResult>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                            most_sensitive_dimension, dimensions, created_at
                     FROM sensitivity_results WHERE id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(sensitivity).transpose()
            })
            .await
    }

    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<SensitivityResult>> {
        let simulation_id = simulation_id.to_owned();
        self.db
            .read(move |conn| {
                // julianday() orders legacy timestamp shapes by instant, text breaks ms ties.
                let mut stmt = conn.prepare_cached(
                    "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                            most_sensitive_dimension, dimensions, created_at
                     FROM sensitivity_results WHERE simulation_id = ?1
                     ORDER BY julianday(analyzed_at) DESC, analyzed_at DESC, id DESC",
                )?;
                let mut rows = stmt.query([simulation_id])?;
                let mut items = Vec::new();
                while let Some(row) = rows.next()? {
                    items.push(sensitivity(row)?);
                }
                Ok(items)
            })
            .await
    }

    async fn latest_by_simulation(&self, simulation_id: &str) -> Result<Option<SensitivityResult>> {
        let simulation_id = simulation_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, simulation_id, analyzed_at, deltas_used, baseline_success,
                            most_sensitive_dimension, dimensions, created_at
                     FROM sensitivity_results WHERE simulation_id = ?1
                     ORDER BY julianday(analyzed_at) DESC, analyzed_at DESC, id DESC
                     LIMIT 1",
                )?;
                let mut rows = stmt.query([simulation_id])?;
                rows.next()?.map(sensitivity).transpose()
            })
            .await
    }

    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64> {
        let simulation_id = simulation_id.to_owned();
        let deleted = self
            .db
            .execute(
                "DELETE FROM sensitivity_results WHERE simulation_id = ?1",
                [simulation_id],
            )
            .await?;
        Ok(deleted)
    }
}
