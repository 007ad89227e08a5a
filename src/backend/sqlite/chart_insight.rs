//! [`ChartInsightRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::SqliteDb;
use super::row::{json, json_param, string, timestamp, ts_param};
use crate::model::{ChartInsight, NewChartInsight, now};
use crate::repo::ChartInsightRepository;
use crate::{Error, Result};

const TABLE: &str = "chart_insights";

/// Chart insights in the legacy SQLite store.
pub(crate) struct SqliteChartInsightRepository {
    db: SqliteDb,
}

impl SqliteChartInsightRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteChartInsightRepository { db }
    }
}

fn chart_insight(row: &Row<'_>) -> Result<ChartInsight> {
    Ok(ChartInsight {
        id: string(row, TABLE, "id")?,
        simulation_id: string(row, TABLE, "simulation_id")?,
        insight_type: string(row, TABLE, "insight_type")?,
        response_json: json(row, TABLE, "response_json")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        updated_at: timestamp(row, TABLE, "updated_at")?,
    })
}

#[async_trait]
impl ChartInsightRepository for SqliteChartInsightRepository {
    async fn get(&self, simulation_id: &str, insight_type: &str) -> Result<Option<ChartInsight>> {
        let (simulation_id, insight_type) = (simulation_id.to_owned(), insight_type.to_owned());
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, simulation_id, insight_type, response_json, created_at, updated_at
                     FROM chart_insights WHERE simulation_id = ?1 AND insight_type = ?2",
                )?;
                let mut rows = stmt.query([simulation_id, insight_type])?;
                rows.next()?.map(chart_insight).transpose()
            })
            .await
    }

    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<ChartInsight>> {
        let simulation_id = simulation_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, simulation_id, insight_type, response_json, created_at, updated_at
                     FROM chart_insights WHERE simulation_id = ?1 ORDER BY insight_type",
                )?;
                let mut rows = stmt.query([simulation_id])?;
                let mut insights = Vec::new();
                while let Some(row) = rows.next()? {
                    insights.push(chart_insight(row)?);
                }
                Ok(insights)
            })
            .await
    }

    async fn save(&self, new: &NewChartInsight) -> Result<ChartInsight> {
        let new = new.clone();
        let saved_at = new.saved_at.unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO chart_insights (id, simulation_id, insight_type, response_json, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                     ON CONFLICT (simulation_id, insight_type) DO UPDATE
                     SET response_json = excluded.response_json, updated_at = excluded.updated_at
                     RETURNING id, simulation_id, insight_type, response_json, created_at, updated_at",
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.simulation_id,
                    new.insight_type,
                    json_param(&new.response_json),
                    ts_param(&saved_at)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                chart_insight(row)
            })
            .await
    }

    async fn delete(&self, simulation_id: &str, insight_type: &str) -> Result<bool> {
        let (simulation_id, insight_type) = (simulation_id.to_owned(), insight_type.to_owned());
        let deleted = self
            .db
            .execute(
                "DELETE FROM chart_insights WHERE simulation_id = ?1 AND insight_type = ?2",
                [simulation_id, insight_type],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64> {
        let simulation_id = simulation_id.to_owned();
        let deleted = self
            .db
            .execute("DELETE FROM chart_insights WHERE simulation_id = ?1", [simulation_id])
            .await?;
        Ok(deleted)
    }
}
