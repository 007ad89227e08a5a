//! [`RegionRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::Connection;

use super::SqliteDb;
use super::driver::rows_on;
use super::row::args;
use crate::Result;
use crate::backend::driver::{Driver, written};
use crate::backend::row::FromRow;
use crate::model::{NewRegionAnalysis, RegionAnalysis};
use crate::repo::RegionRepository;

/// Region analyses in the legacy SQLite store.
pub(crate) struct SqliteRegionRepository {
    db: SqliteDb,
}

impl SqliteRegionRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteRegionRepository { db }
    }
}

/// Inserts one region inside the caller's transaction.
fn insert(conn: &Connection, new: &NewRegionAnalysis) -> Result<RegionAnalysis> {
    let rows = rows_on(
        conn,
        "INSERT INTO region_analyses (id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                                      did_not_try_rate, failed_rate, success_rate, failure_delta)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         RETURNING id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                   did_not_try_rate, failed_rate, success_rate, failure_delta",
        &args![
            new.id,
            new.simulation_id,
            new.rules,
            new.rule_text,
            new.synth_count,
            new.synth_percentage,
            new.did_not_try_rate,
            new.failed_rate,
            new.success_rate,
            new.failure_delta
        ],
        RegionAnalysis::from_row,
    )?;
    written(rows)
}

#[async_trait]
impl RegionRepository for SqliteRegionRepository {
    async fn save(&self, new: &NewRegionAnalysis) -> Result<RegionAnalysis> {
        let new = new.clone();
        self.db.write(move |conn| insert(conn, &new)).await
    }

    async fn save_many(&self, new: &[NewRegionAnalysis]) -> Result<Vec<RegionAnalysis>> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let batch = new.to_vec();
        // One write closure is one transaction: a failing row rolls back the whole batch.
        self.db
            .write(move |conn| batch.iter().map(|new| insert(conn, new)).collect())
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<RegionAnalysis>> {
        self.db
            .fetch_opt(
                "SELECT id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                        did_not_try_rate, failed_rate, success_rate, failure_delta
                 FROM region_analyses WHERE id = ?1",
                args![id],
            )
            .await
    }

    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<RegionAnalysis>> {
        self.db
            .fetch_all(
                "SELECT id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                        did_not_try_rate, failed_rate, success_rate, failure_delta
                 FROM region_analyses WHERE simulation_id = ?1
                 ORDER BY failure_delta DESC, id ASC",
                args![simulation_id],
            )
            .await
    }

    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64> {
        self.db
            .execute_count(
                "DELETE FROM region_analyses WHERE simulation_id = ?1",
                args![simulation_id],
            )
            .await
    }
}
