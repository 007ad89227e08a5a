//! [`ExperimentRepository`] over SQLite.

use async_trait::async_trait;
use serde_json::Value;

use super::SqliteDb;
use super::row::args;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{Experiment, ExperimentChanges, ExperimentSummary, NewExperiment, Page, PageRequest, now};
use crate::repo::ExperimentRepository;

/// Experiments in the legacy SQLite store.
pub(crate) struct SqliteExperimentRepository {
    db: SqliteDb,
}

impl SqliteExperimentRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteExperimentRepository { db }
    }
}

#[async_trait]
impl ExperimentRepository for SqliteExperimentRepository {
    async fn create(&self, new: &NewExperiment) -> Result<Experiment> {
        self.db
            .fetch_written(
                "INSERT INTO experiments (id, name, hypothesis, description, scorecard_data, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6)
                 RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at",
                args![
                    new.id,
                    new.name,
                    new.hypothesis,
                    new.description,
                    new.scorecard_data,
                    new.created_at.unwrap_or_else(now)
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<Experiment>> {
        self.db
            .fetch_opt(
                "SELECT id, name, hypothesis, description, scorecard_data, status, created_at, updated_at
                 FROM experiments WHERE id = ?1 AND status = 'active'",
                args![id],
            )
            .await
    }

    async fn list(&self, page: PageRequest) -> Result<Page<ExperimentSummary>> {
        // julianday() orders legacy timestamp shapes by instant, text breaks ms ties.
        self.db
            .fetch_page(
                "WITH total AS (SELECT count(*) AS n FROM experiments WHERE status = 'active')
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT e.id, e.name, e.hypothesis, e.description, e.created_at, e.updated_at,
                            e.scorecard_data IS NOT NULL AS has_scorecard,
                            EXISTS (SELECT 1 FROM analysis_runs a WHERE a.experiment_id = e.id) AS has_analysis,
                            EXISTS (SELECT 1 FROM interview_guide g WHERE g.experiment_id = e.id) AS has_interview_guide,
                            (SELECT count(*) FROM research_executions r WHERE r.experiment_id = e.id) AS interview_count,
                            julianday(e.created_at) AS sort_key
                     FROM experiments e WHERE e.status = 'active'
                     ORDER BY julianday(e.created_at) DESC, e.created_at DESC, e.id DESC
                     LIMIT ?1 OFFSET ?2
                 ) p ON 1
                 ORDER BY p.sort_key DESC, p.created_at DESC, p.id DESC",
                args![page.limit, page.offset],
                page,
            )
            .await
    }

    async fn update(&self, id: &str, changes: &ExperimentChanges) -> Result<Experiment> {
        self.db
            .fetch_updated(
                "UPDATE experiments
                 SET name = coalesce(?2, name), hypothesis = coalesce(?3, hypothesis),
                     description = CASE WHEN ?4 THEN ?5 ELSE description END, updated_at = ?6
                 WHERE id = ?1 AND status = 'active'
                 RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at",
                args![
                    id,
                    changes.name,
                    changes.hypothesis,
                    changes.description.is_some(),
                    changes.description.clone().flatten(),
                    now()
                ],
                format!("experiment {id}"),
            )
            .await
    }

    async fn update_scorecard(&self, id: &str, scorecard: &Value) -> Result<Experiment> {
        self.db
            .fetch_updated(
                "UPDATE experiments SET scorecard_data = ?2, updated_at = ?3
                 WHERE id = ?1 AND status = 'active'
                 RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at",
                args![id, scorecard, now()],
                format!("experiment {id}"),
            )
            .await
    }

    async fn soft_delete(&self, id: &str) -> Result<()> {
        self.db
            .execute_found(
                "UPDATE experiments SET status = 'deleted', updated_at = ?2 WHERE id = ?1 AND status = 'active'",
                args![id, now()],
                format!("experiment {id}"),
            )
            .await
    }
}
