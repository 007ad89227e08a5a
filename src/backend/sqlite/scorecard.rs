//! [`ScorecardRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, Params, Row, params};
use serde_json::Value;

use super::SqliteDb;
use super::row::{int, json, json_param, opt_string, opt_timestamp, string, timestamp, ts_param};
use crate::model::{FeatureScorecard, NewScorecard, Page, PageRequest, now, truncate};
use crate::repo::ScorecardRepository;
use crate::{Error, Result};

const TABLE: &str = "feature_scorecards";

/// Legacy scorecards in the SQLite store.
pub(crate) struct SqliteScorecardRepository {
    db: SqliteDb,
}

impl SqliteScorecardRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteScorecardRepository { db }
    }
}

fn scorecard(row: &Row<'_>) -> Result<FeatureScorecard> {
    Ok(FeatureScorecard {
        id: string(row, TABLE, "id")?,
        experiment_id: opt_string(row, TABLE, "experiment_id")?,
        data: json(row, TABLE, "data")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        updated_at: opt_timestamp(row, TABLE, "updated_at")?,
    })
}

/// Runs a `total LEFT JOIN page` statement and collects the page.
fn page_of(conn: &Connection, sql: &str, params: impl Params, page: PageRequest) -> Result<Page<FeatureScorecard>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut items = Vec::new();
    let mut total = 0;
    while let Some(row) = rows.next()? {
        total = int(row, TABLE, "total")?;
        if opt_string(row, TABLE, "id")?.is_some() {
            items.push(scorecard(row)?);
        }
    }
    Ok(Page::new(items, total, page))
}

#[async_trait]
impl ScorecardRepository for SqliteScorecardRepository {
    async fn create(&self, new: &NewScorecard) -> Result<FeatureScorecard> {
        let new = new.clone();
        let created_at = new.created_at.map(truncate).unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO feature_scorecards (id, experiment_id, data, created_at)
                     VALUES (?1, ?2, ?3, ?4)
                     RETURNING id, experiment_id, data, created_at, updated_at",
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.experiment_id,
                    json_param(&new.data),
                    ts_param(&created_at)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                scorecard(row)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<FeatureScorecard>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, experiment_id, data, created_at, updated_at FROM feature_scorecards WHERE id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(scorecard).transpose()
            })
            .await
    }

    async fn list(&self, page: PageRequest) -> Result<Page<FeatureScorecard>> {
        self.db
            .read(move |conn| {
                // One statement, so the total and the page come from the same snapshot.
                page_of(
                    conn,
                    "WITH total AS (SELECT count(*) AS n FROM feature_scorecards)
                     SELECT total.n AS total, p.* FROM total LEFT JOIN (
                         SELECT id, experiment_id, data, created_at, updated_at, julianday(created_at) AS sort_key
                         FROM feature_scorecards
                         ORDER BY julianday(created_at) DESC, created_at DESC, id DESC
                         LIMIT ?1 OFFSET ?2
                     ) p ON 1
                     ORDER BY p.sort_key DESC, p.created_at DESC, p.id DESC",
                    params![page.limit, page.offset],
                    page,
                )
            })
            .await
    }

    async fn list_by_experiment(&self, experiment_id: &str, page: PageRequest) -> Result<Page<FeatureScorecard>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                page_of(
                    conn,
                    "WITH total AS (SELECT count(*) AS n FROM feature_scorecards WHERE experiment_id = ?1)
                     SELECT total.n AS total, p.* FROM total LEFT JOIN (
                         SELECT id, experiment_id, data, created_at, updated_at, julianday(created_at) AS sort_key
                         FROM feature_scorecards WHERE experiment_id = ?1
                         ORDER BY julianday(created_at) DESC, created_at DESC, id DESC
                         LIMIT ?2 OFFSET ?3
                     ) p ON 1
                     ORDER BY p.sort_key DESC, p.created_at DESC, p.id DESC",
                    params![experiment_id, page.limit, page.offset],
                    page,
                )
            })
            .await
    }

    async fn update_data(&self, id: &str, data: &Value) -> Result<FeatureScorecard> {
        let data = data.clone();
        let (id, data, updated_at) = (id.to_owned(), json_param(&data), now());
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "UPDATE feature_scorecards SET data = ?2, updated_at = ?3 WHERE id = ?1
                     RETURNING id, experiment_id, data, created_at, updated_at",
                )?;
                let mut rows = stmt.query(params![id, data, ts_param(&updated_at)])?;
                rows.next()?
                    .map(scorecard)
                    .transpose()?
                    .ok_or_else(|| Error::not_found(format!("scorecard {id}")))
            })
            .await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        let deleted = self
            .db
            .execute("DELETE FROM feature_scorecards WHERE id = ?1", [id])
            .await?;
        Ok(deleted > 0)
    }
}
