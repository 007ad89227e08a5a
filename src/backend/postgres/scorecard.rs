//! [`ScorecardRepository`] over PostgreSQL.

use async_trait::async_trait;
use serde_json::Value;
use tokio_postgres::Row;

use super::row::{get, json, opt_timestamp, timestamp};
use super::{Param, PgDb};
use crate::model::{FeatureScorecard, NewScorecard, Page, PageRequest, now, truncate};
use crate::repo::ScorecardRepository;
use crate::{Error, Result};

const TABLE: &str = "feature_scorecards";

/// Legacy scorecards in PostgreSQL.
pub(crate) struct PgScorecardRepository {
    db: PgDb,
}

impl PgScorecardRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgScorecardRepository { db }
    }

    /// Runs a `total LEFT JOIN page` statement and collects the page.
    async fn page_of(&self, sql: &str, params: &[Param<'_>], page: PageRequest) -> Result<Page<FeatureScorecard>> {
        let rows = self.db.query(sql, params).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut total = 0;
        for row in &rows {
            total = get(row, TABLE, "total")?;
            if get::<Option<&str>>(row, TABLE, "id")?.is_some() {
                items.push(scorecard(row)?);
            }
        }
        Ok(Page::new(items, total, page))
    }
}

fn scorecard(row: &Row) -> Result<FeatureScorecard> {
    Ok(FeatureScorecard {
        id: get(row, TABLE, "id")?,
        experiment_id: get(row, TABLE, "experiment_id")?,
        data: json(row, TABLE, "data")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        updated_at: opt_timestamp(row, TABLE, "updated_at")?,
    })
}

#[async_trait]
impl ScorecardRepository for PgScorecardRepository {
    async fn create(&self, new: &NewScorecard) -> Result<FeatureScorecard> {
        let new = &new.clone();
        let created_at = new.created_at.map(truncate).unwrap_or_else(now);
        let row = self
            .db
            .query_one(
                "INSERT INTO feature_scorecards (id, experiment_id, data, created_at)
                 VALUES ($1, $2, $3, $4)
                 RETURNING id, experiment_id, data, created_at, updated_at",
                &[&new.id, &new.experiment_id, &new.data, &created_at],
            )
            .await?;
        scorecard(&row)
    }

    async fn get(&self, id: &str) -> Result<Option<FeatureScorecard>> {
        self.db
            .query_opt(
                "SELECT id, experiment_id, data, created_at, updated_at FROM feature_scorecards WHERE id = $1",
                &[&id],
            )
            .await?
            .as_ref()
            .map(scorecard)
            .transpose()
    }

    async fn list(&self, page: PageRequest) -> Result<Page<FeatureScorecard>> {
        // One statement, so the total and the page come from the same snapshot.
        self.page_of(
            "WITH total AS (SELECT count(*) AS n FROM feature_scorecards)
             SELECT total.n AS total, p.* FROM total LEFT JOIN (
                 SELECT id, experiment_id, data, created_at, updated_at
                 FROM feature_scorecards
                 ORDER BY created_at DESC, id DESC
                 LIMIT $1 OFFSET $2
             ) p ON true
             ORDER BY p.created_at DESC, p.id DESC",
            &[&page.limit, &page.offset],
            page,
        )
        .await
    }

    async fn list_by_experiment(&self, experiment_id: &str, page: PageRequest) -> Result<Page<FeatureScorecard>> {
        self.page_of(
            "WITH total AS (SELECT count(*) AS n FROM feature_scorecards WHERE experiment_id = $1)
             SELECT total.n AS total, p.* FROM total LEFT JOIN (
                 SELECT id, experiment_id, data, created_at, updated_at
                 FROM feature_scorecards WHERE experiment_id = $1
                 ORDER BY created_at DESC, id DESC
                 LIMIT $2 OFFSET $3
             ) p ON true
             ORDER BY p.created_at DESC, p.id DESC",
            &[&experiment_id, &page.limit, &page.offset],
            page,
        )
        .await
    }

    async fn update_data(&self, id: &str, data: &Value) -> Result<FeatureScorecard> {
        let data = &data.clone();
        self.db
            .query_opt(
                "UPDATE feature_scorecards SET data = $2, updated_at = $3 WHERE id = $1
                 RETURNING id, experiment_id, data, created_at, updated_at",
                &[&id, data, &now()],
            )
            .await?
            .as_ref()
            .map(scorecard)
            .transpose()?
            .ok_or_else(|| Error::not_found(format!("scorecard {id}")))
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute("DELETE FROM feature_scorecards WHERE id = $1", &[&id])
            .await?;
        Ok(deleted > 0)
    }
}
