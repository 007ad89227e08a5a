//! [`ExperimentRepository`] over PostgreSQL.

use async_trait::async_trait;
use serde_json::Value;
use tokio_postgres::Row;

use super::PgDb;
use super::row::{enumerated, get, opt_json, opt_timestamp, timestamp};
use crate::model::{Experiment, ExperimentChanges, ExperimentSummary, NewExperiment, Page, PageRequest, now, truncate};
use crate::repo::ExperimentRepository;
use crate::{Error, Result};

const TABLE: &str = "experiments";

/// Experiments in PostgreSQL.
pub(crate) struct PgExperimentRepository {
    db: PgDb,
}

impl PgExperimentRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgExperimentRepository { db }
    }
}

fn experiment(row: &Row) -> Result<Experiment> {
    Ok(Experiment {
        id: get(row, TABLE, "id")?,
        name: get(row, TABLE, "name")?,
        hypothesis: get(row, TABLE, "hypothesis")?,
        description: get(row, TABLE, "description")?,
        scorecard_data: opt_json(row, TABLE, "scorecard_data")?,
        status: enumerated(row, TABLE, "status")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        updated_at: opt_timestamp(row, TABLE, "updated_at")?,
    })
}

fn updated_or_not_found(id: &str, row: Option<Row>) -> Result<Experiment> {
    row.as_ref()
        .map(experiment)
        .transpose()?
        .ok_or_else(|| Error::not_found(format!("experiment {id}")))
}

#[async_trait]
impl ExperimentRepository for PgExperimentRepository {
    async fn create(&self, new: &NewExperiment) -> Result<Experiment> {
        let new = &new.clone();
        let created_at = new.created_at.map(truncate).unwrap_or_else(now);
        let row = self
            .db
            .query_one(
                "INSERT INTO experiments (id, name, hypothesis, description, scorecard_data, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, 'active', $6)
                 RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at",
                &[
                    &new.id,
                    &new.name,
                    &new.hypothesis,
                    &new.description,
                    &new.scorecard_data,
                    &created_at,
                ],
            )
            .await?;
        experiment(&row)
    }

    async fn get(&self, id: &str) -> Result<Option<Experiment>> {
        self.db
            .query_opt(
                "SELECT id, name, hypothesis, description, scorecard_data, status, created_at, updated_at
                 FROM experiments WHERE id = $1 AND status = 'active'",
                &[&id],
            )
            .await?
            .as_ref()
            .map(experiment)
            .transpose()
    }

    async fn list(&self, page: PageRequest) -> Result<Page<ExperimentSummary>> {
        // One statement, so the total and the page come from the same snapshot.
        let rows = self
            .db
            .query(
                "WITH total AS (SELECT count(*) AS n FROM experiments WHERE status = 'active')
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT e.id, e.name, e.hypothesis, e.description, e.created_at, e.updated_at,
                            e.scorecard_data IS NOT NULL AS has_scorecard,
                            EXISTS (SELECT 1 FROM analysis_runs a WHERE a.experiment_id = e.id) AS has_analysis,
                            EXISTS (SELECT 1 FROM interview_guide g WHERE g.experiment_id = e.id) AS has_interview_guide,
                            (SELECT count(*) FROM research_executions r WHERE r.experiment_id = e.id) AS interview_count
                     FROM experiments e WHERE e.status = 'active'
                     ORDER BY e.created_at DESC, e.id DESC
                     LIMIT $1 OFFSET $2
                 ) p ON true
                 ORDER BY p.created_at DESC, p.id DESC",
                &[&page.limit, &page.offset],
            )
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut total = 0;
        for row in &rows {
            total = get(row, TABLE, "total")?;
            if get::<Option<&str>>(row, TABLE, "id")?.is_none() {
                continue;
            }
            items.push(ExperimentSummary {
                id: get(row, TABLE, "id")?,
                name: get(row, TABLE, "name")?,
                hypothesis: get(row, TABLE, "hypothesis")?,
                description: get(row, TABLE, "description")?,
                created_at: timestamp(row, TABLE, "created_at")?,
                updated_at: opt_timestamp(row, TABLE, "updated_at")?,
                has_scorecard: get(row, TABLE, "has_scorecard")?,
                has_analysis: get(row, TABLE, "has_analysis")?,
                has_interview_guide: get(row, TABLE, "has_interview_guide")?,
                interview_count: get(row, TABLE, "interview_count")?,
            });
        }
        Ok(Page::new(items, total, page))
    }

    async fn update(&self, id: &str, changes: &ExperimentChanges) -> Result<Experiment> {
        let changes = &changes.clone();
        let clear_or_set = changes.description.is_some();
        let description = changes.description.clone().flatten();
        let row = self
            .db
            .query_opt(
                "UPDATE experiments
                 SET name = coalesce($2, name), hypothesis = coalesce($3, hypothesis),
                     description = CASE WHEN $4 THEN $5 ELSE description END, updated_at = $6
                 WHERE id = $1 AND status = 'active'
                 RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at",
                &[
                    &id,
                    &changes.name,
                    &changes.hypothesis,
                    &clear_or_set,
                    &description,
                    &now(),
                ],
            )
            .await?;
        updated_or_not_found(id, row)
    }

    async fn update_scorecard(&self, id: &str, scorecard: &Value) -> Result<Experiment> {
        let scorecard = &scorecard.clone();
        let row = self
            .db
            .query_opt(
                "UPDATE experiments SET scorecard_data = $2, updated_at = $3
                 WHERE id = $1 AND status = 'active'
                 RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at",
                &[&id, scorecard, &now()],
            )
            .await?;
        updated_or_not_found(id, row)
    }

    async fn soft_delete(&self, id: &str) -> Result<()> {
        let changed = self
            .db
            .execute(
                "UPDATE experiments SET status = 'deleted', updated_at = $2 WHERE id = $1 AND status = 'active'",
                &[&id, &now()],
            )
            .await?;
        if changed == 0 {
            return Err(Error::not_found(format!("experiment {id}")));
        }
        Ok(())
    }
}
