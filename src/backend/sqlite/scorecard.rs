//! [`ScorecardRepository`] over SQLite.

use async_trait::async_trait;
use serde_json::Value;

use super::SqliteDb;
use super::row::args;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{FeatureScorecard, NewScorecard, Page, PageRequest, now};
use crate::repo::ScorecardRepository;

/// Legacy scorecards in the SQLite store.
pub(crate) struct SqliteScorecardRepository {
    db: SqliteDb,
}

impl SqliteScorecardRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteScorecardRepository { db }
    }
}

#[async_trait]
impl ScorecardRepository for SqliteScorecardRepository {
    async fn create(&self, new: &NewScorecard) -> Result<FeatureScorecard> {
        self.db
            .fetch_written(
                "INSERT INTO feature_scorecards (id, experiment_id, data, created_at)
                 VALUES (?1, ?2, ?3, ?4)
                 RETURNING id, experiment_id, data, created_at, updated_at",
                args![new.id, new.experiment_id, new.data, new.created_at.unwrap_or_else(now)],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<FeatureScorecard>> {
        self.db
            .fetch_opt(
                "SELECT id, experiment_id, data, created_at, updated_at FROM feature_scorecards WHERE id = ?1",
                args![id],
            )
            .await
    }

    async fn list(&self, page: PageRequest) -> Result<Page<FeatureScorecard>> {
        self.db
            .fetch_page(
                "WITH total AS (SELECT count(*) AS n FROM feature_scorecards)
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT id, experiment_id, data, created_at, updated_at, julianday(created_at) AS sort_key
                     FROM feature_scorecards
                     ORDER BY julianday(created_at) DESC, created_at DESC, id DESC
                     LIMIT ?1 OFFSET ?2
                 ) p ON 1
                 ORDER BY p.sort_key DESC, p.created_at DESC, p.id DESC",
                args![page.limit, page.offset],
                page,
            )
            .await
    }

    async fn list_by_experiment(&self, experiment_id: &str, page: PageRequest) -> Result<Page<FeatureScorecard>> {
        self.db
            .fetch_page(
                "WITH total AS (SELECT count(*) AS n FROM feature_scorecards WHERE experiment_id = ?1)
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT id, experiment_id, data, created_at, updated_at, julianday(created_at) AS sort_key
                     FROM feature_scorecards WHERE experiment_id = ?1
                     ORDER BY julianday(created_at) DESC, created_at DESC, id DESC
                     LIMIT ?2 OFFSET ?3
                 ) p ON 1
                 ORDER BY p.sort_key DESC, p.created_at DESC, p.id DESC",
                args![experiment_id, page.limit, page.offset],
                page,
            )
            .await
    }

    async fn update_data(&self, id: &str, data: &Value) -> Result<FeatureScorecard> {
        self.db
            .fetch_updated(
                "UPDATE feature_scorecards SET data = ?2, updated_at = ?3 WHERE id = ?1
                 RETURNING id, experiment_id, data, created_at, updated_at",
                args![id, data, now()],
                format!("scorecard {id}"),
            )
            .await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count("DELETE FROM feature_scorecards WHERE id = ?1", args![id])
            .await?;
        Ok(deleted > 0)
    }
}
