//! [`RegionRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};

use super::SqliteDb;
use super::row::{float, int, json, json_param, string};
use crate::model::{NewRegionAnalysis, RegionAnalysis};
use crate::repo::RegionRepository;
use crate::{Error, Result};

const TABLE: &str = "region_analyses";

/// Region analyses in the legacy SQLite store.
pub(crate) struct SqliteRegionRepository {
    db: SqliteDb,
}

impl SqliteRegionRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteRegionRepository { db }
    }
}

fn region(row: &Row<'_>) -> Result<RegionAnalysis> {
    Ok(RegionAnalysis {
        id: string(row, TABLE, "id")?,
        simulation_id: string(row, TABLE, "simulation_id")?,
        rules: json(row, TABLE, "rules")?,
        rule_text: string(row, TABLE, "rule_text")?,
        synth_count: int(row, TABLE, "synth_count")?,
        synth_percentage: float(row, TABLE, "synth_percentage")?,
        did_not_try_rate: float(row, TABLE, "did_not_try_rate")?,
        failed_rate: float(row, TABLE, "failed_rate")?,
        success_rate: float(row, TABLE, "success_rate")?,
        failure_delta: float(row, TABLE, "failure_delta")?,
    })
}

/// Inserts one (already checked) region inside the caller's transaction.
fn insert(conn: &Connection, new: &NewRegionAnalysis) -> Result<RegionAnalysis> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO region_analyses (id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                                      did_not_try_rate, failed_rate, success_rate, failure_delta)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         RETURNING id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                   did_not_try_rate, failed_rate, success_rate, failure_delta",
    )?;
    let mut rows = stmt.query(params![
        new.id,
        new.simulation_id,
        json_param(&new.rules),
        new.rule_text,
        new.synth_count,
        new.synth_percentage,
        new.did_not_try_rate,
        new.failed_rate,
        new.success_rate,
        new.failure_delta
    ])?;
    let row = rows
        .next()?
        .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
    region(row)
}

#[async_trait]
impl RegionRepository for SqliteRegionRepository {
    async fn save(&self, new: &NewRegionAnalysis) -> Result<RegionAnalysis> {
        let new = new.clone();
        self.db.write(move |conn| insert(conn, &new)).await
    }

    async fn save_many(&self, new: &[NewRegionAnalysis]) -> Result<Vec<RegionAnalysis>> {
        let batch = new.to_vec();
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // One write closure is one transaction: a failing row rolls back the whole batch.
        self.db
            .write(move |conn| batch.iter().map(|new| insert(conn, new)).collect())
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<RegionAnalysis>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                            did_not_try_rate, failed_rate, success_rate, failure_delta
                     FROM region_analyses WHERE id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(region).transpose()
            })
            .await
    }

    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<RegionAnalysis>> {
        let simulation_id = simulation_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                            did_not_try_rate, failed_rate, success_rate, failure_delta
                     FROM region_analyses WHERE simulation_id = ?1
                     ORDER BY failure_delta DESC, id ASC",
                )?;
                let mut rows = stmt.query([simulation_id])?;
                let mut items = Vec::new();
                while let Some(row) = rows.next()? {
                    items.push(region(row)?);
                }
                Ok(items)
            })
            .await
    }

    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64> {
        let simulation_id = simulation_id.to_owned();
        let deleted = self
            .db
            .execute("DELETE FROM region_analyses WHERE simulation_id = ?1", [simulation_id])
            .await?;
        Ok(deleted)
    }
}
