//! [`ExperimentRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};
use serde_json::Value;

use super::SqliteDb;
use super::row::{
    enumerated, flag, int, json_param, opt_json, opt_json_param, opt_string, opt_timestamp, string, timestamp, ts_param,
};
use crate::model::{Experiment, ExperimentChanges, ExperimentSummary, NewExperiment, Page, PageRequest, now};
use crate::repo::ExperimentRepository;
use crate::{Error, Result};

const TABLE: &str = "experiments";

/// Experiments in the legacy SQLite store.
pub(crate) struct SqliteExperimentRepository {
    db: SqliteDb,
}

impl SqliteExperimentRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteExperimentRepository { db }
    }
}

fn experiment(row: &Row<'_>) -> Result<Experiment> {
    Ok(Experiment {
        id: string(row, TABLE, "id")?,
        name: string(row, TABLE, "name")?,
        hypothesis: string(row, TABLE, "hypothesis")?,
        description: opt_string(row, TABLE, "description")?,
        scorecard_data: opt_json(row, TABLE, "scorecard_data")?,
        status: enumerated(row, TABLE, "status")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        updated_at: opt_timestamp(row, TABLE, "updated_at")?,
    })
}

fn updated_or_not_found(id: &str, row: Option<Experiment>) -> Result<Experiment> {
    row.ok_or_else(|| Error::not_found(format!("experiment {id}")))
}

#[async_trait]
impl ExperimentRepository for SqliteExperimentRepository {
    async fn create(&self, new: &NewExperiment) -> Result<Experiment> {
        let new = new.clone();
        let created_at = new.created_at.map(crate::model::truncate).unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO experiments (id, name, hypothesis, description, scorecard_data, status, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6)
                     RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at",
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.name,
                    new.hypothesis,
                    new.description,
                    opt_json_param(&new.scorecard_data),
                    ts_param(&created_at)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                experiment(row)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<Experiment>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, name, hypothesis, description, scorecard_data, status, created_at, updated_at
                     FROM experiments WHERE id = ?1 AND status = 'active'",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(experiment).transpose()
            })
            .await
    }

    async fn list(&self, page: PageRequest) -> Result<Page<ExperimentSummary>> {
        self.db
            .read(move |conn| {
                // One statement, so the total and the page come from the same snapshot.
                // julianday() orders legacy timestamp shapes by instant, text breaks ms ties.
                let mut stmt = conn.prepare_cached(
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
                )?;
                let mut rows = stmt.query(params![page.limit, page.offset])?;
                let mut items = Vec::new();
                let mut total = 0;
                while let Some(row) = rows.next()? {
                    total = int(row, TABLE, "total")?;
                    if opt_string(row, TABLE, "id")?.is_none() {
                        continue;
                    }
                    items.push(ExperimentSummary {
                        id: string(row, TABLE, "id")?,
                        name: string(row, TABLE, "name")?,
                        hypothesis: string(row, TABLE, "hypothesis")?,
                        description: opt_string(row, TABLE, "description")?,
                        created_at: timestamp(row, TABLE, "created_at")?,
                        updated_at: opt_timestamp(row, TABLE, "updated_at")?,
                        has_scorecard: flag(row, TABLE, "has_scorecard")?,
                        has_analysis: flag(row, TABLE, "has_analysis")?,
                        has_interview_guide: flag(row, TABLE, "has_interview_guide")?,
                        interview_count: int(row, TABLE, "interview_count")?,
                    });
                }
                Ok(Page::new(items, total, page))
            })
            .await
    }

    async fn update(&self, id: &str, changes: &ExperimentChanges) -> Result<Experiment> {
        let (id, changes, updated_at) = (id.to_owned(), changes.clone(), now());
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "UPDATE experiments
                     SET name = coalesce(?2, name), hypothesis = coalesce(?3, hypothesis),
                         description = CASE WHEN ?4 THEN ?5 ELSE description END, updated_at = ?6
                     WHERE id = ?1 AND status = 'active'
                     RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at",
                )?;
                let mut rows = stmt.query(params![
                    id,
                    changes.name,
                    changes.hypothesis,
                    changes.description.is_some(),
                    changes.description.clone().flatten(),
                    ts_param(&updated_at)
                ])?;
                let row = rows.next()?.map(experiment).transpose()?;
                updated_or_not_found(&id, row)
            })
            .await
    }

    async fn update_scorecard(&self, id: &str, scorecard: &Value) -> Result<Experiment> {
        let scorecard = scorecard.clone();
        let (id, scorecard, updated_at) = (id.to_owned(), json_param(&scorecard), now());
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "UPDATE experiments SET scorecard_data = ?2, updated_at = ?3
                     WHERE id = ?1 AND status = 'active'
                     RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at",
                )?;
                let mut rows = stmt.query(params![id, scorecard, ts_param(&updated_at)])?;
                let row = rows.next()?.map(experiment).transpose()?;
                updated_or_not_found(&id, row)
            })
            .await
    }

    async fn soft_delete(&self, id: &str) -> Result<()> {
        let (id, updated_at) = (id.to_owned(), now());
        self.db
            .write(move |conn| {
                let changed = conn
                    .prepare_cached(
                        "UPDATE experiments SET status = 'deleted', updated_at = ?2 WHERE id = ?1 AND status = 'active'",
                    )?
                    .execute(params![id, ts_param(&updated_at)])?;
                if changed == 0 {
                    return Err(Error::not_found(format!("experiment {id}")));
                }
                Ok(())
            })
            .await
    }
}
