//! [`SynthOutcomeRepository`] over PostgreSQL.

use async_trait::async_trait;
use serde_json::Value;
use tokio_postgres::Row;

use super::PgDb;
use super::row::{get, opt_json};
use crate::Result;
use crate::model::{NewSynthOutcome, OutcomeStatistics, Page, PageRequest, SynthOutcome, outcome_statistics};
use crate::repo::SynthOutcomeRepository;

const TABLE: &str = "synth_outcomes";

/// Synth outcomes in PostgreSQL.
pub(crate) struct PgSynthOutcomeRepository {
    db: PgDb,
}

impl PgSynthOutcomeRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSynthOutcomeRepository { db }
    }
}

fn synth_outcome(row: &Row) -> Result<SynthOutcome> {
    Ok(SynthOutcome {
        id: get(row, TABLE, "id")?,
        analysis_id: get(row, TABLE, "analysis_id")?,
        synth_id: get(row, TABLE, "synth_id")?,
        did_not_try_rate: get(row, TABLE, "did_not_try_rate")?,
        failed_rate: get(row, TABLE, "failed_rate")?,
        success_rate: get(row, TABLE, "success_rate")?,
        synth_attributes: opt_json(row, TABLE, "synth_attributes")?,
    })
}

#[async_trait]
impl SynthOutcomeRepository for PgSynthOutcomeRepository {
    async fn create(&self, new: &NewSynthOutcome) -> Result<SynthOutcome> {
        let new = new.clone();
        let row = self
            .db
            .query_one(
                "INSERT INTO synth_outcomes
                     (id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 RETURNING id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes",
                &[
                    &new.id,
                    &new.analysis_id,
                    &new.synth_id,
                    &new.did_not_try_rate,
                    &new.failed_rate,
                    &new.success_rate,
                    &new.synth_attributes,
                ],
            )
            .await?;
        synth_outcome(&row)
    }

    async fn create_batch(&self, outcomes: &[NewSynthOutcome]) -> Result<u64> {
        let outcomes = outcomes.to_vec();
        if outcomes.is_empty() {
            return Ok(0);
        }
        let ids: Vec<&str> = outcomes.iter().map(|o| o.id.as_str()).collect();
        let analysis_ids: Vec<&str> = outcomes.iter().map(|o| o.analysis_id.as_str()).collect();
        let synth_ids: Vec<&str> = outcomes.iter().map(|o| o.synth_id.as_str()).collect();
        let did_not_try: Vec<f64> = outcomes.iter().map(|o| o.did_not_try_rate).collect();
        let failed: Vec<f64> = outcomes.iter().map(|o| o.failed_rate).collect();
        let success: Vec<f64> = outcomes.iter().map(|o| o.success_rate).collect();
        let attributes: Vec<Option<&Value>> = outcomes.iter().map(|o| o.synth_attributes.as_ref()).collect();
        // One statement: the whole batch is stored or none of it.
        self.db
            .execute(
                "INSERT INTO synth_outcomes
                     (id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes)
                 SELECT t.id, t.analysis_id, t.synth_id, t.did_not_try_rate, t.failed_rate, t.success_rate,
                        t.synth_attributes
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::jsonb[])
                      AS t(id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes)",
                &[
                    &ids,
                    &analysis_ids,
                    &synth_ids,
                    &did_not_try,
                    &failed,
                    &success,
                    &attributes,
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SynthOutcome>> {
        self.db
            .query_opt(
                "SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                 FROM synth_outcomes WHERE id = $1",
                &[&id],
            )
            .await?
            .as_ref()
            .map(synth_outcome)
            .transpose()
    }

    async fn list_by_analysis(&self, analysis_id: &str, page: PageRequest) -> Result<Page<SynthOutcome>> {
        // One statement, so the total and the page come from the same snapshot.
        let rows = self
            .db
            .query(
                "WITH total AS (SELECT count(*) AS n FROM synth_outcomes WHERE analysis_id = $1)
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                     FROM synth_outcomes WHERE analysis_id = $1
                     ORDER BY synth_id, id
                     LIMIT $2 OFFSET $3
                 ) p ON true
                 ORDER BY p.synth_id, p.id",
                &[&analysis_id, &page.limit, &page.offset],
            )
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut total = 0;
        for row in &rows {
            total = get(row, TABLE, "total")?;
            if get::<Option<&str>>(row, TABLE, "id")?.is_none() {
                continue;
            }
            items.push(synth_outcome(row)?);
        }
        Ok(Page::new(items, total, page))
    }

    async fn count_by_analysis(&self, analysis_id: &str) -> Result<i64> {
        let row = self
            .db
            .query_one(
                "SELECT count(*) AS n FROM synth_outcomes WHERE analysis_id = $1",
                &[&analysis_id],
            )
            .await?;
        get(&row, TABLE, "n")
    }

    async fn delete_by_analysis(&self, analysis_id: &str) -> Result<u64> {
        self.db
            .execute("DELETE FROM synth_outcomes WHERE analysis_id = $1", &[&analysis_id])
            .await
    }

    async fn get_by_synth(&self, analysis_id: &str, synth_id: &str) -> Result<Option<SynthOutcome>> {
        self.db
            .query_opt(
                "SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                 FROM synth_outcomes WHERE analysis_id = $1 AND synth_id = $2",
                &[&analysis_id, &synth_id],
            )
            .await?
            .as_ref()
            .map(synth_outcome)
            .transpose()
    }

    async fn latest_for_synth(&self, synth_id: &str) -> Result<Option<SynthOutcome>> {
        // A synth has one outcome per analysis run: the run started last wins, ties by run id.
        self.db
            .query_opt(
                "SELECT o.id, o.analysis_id, o.synth_id, o.did_not_try_rate, o.failed_rate, o.success_rate,
                        o.synth_attributes
                 FROM synth_outcomes o JOIN analysis_runs a ON a.id = o.analysis_id
                 WHERE o.synth_id = $1
                 ORDER BY a.started_at DESC, a.id DESC
                 LIMIT 1",
                &[&synth_id],
            )
            .await?
            .as_ref()
            .map(synth_outcome)
            .transpose()
    }

    async fn statistics(&self, analysis_id: &str) -> Result<OutcomeStatistics> {
        // Rates in id order: the shared function gives the same bits on both backends.
        let rows = self
            .db
            .query(
                "SELECT did_not_try_rate, failed_rate, success_rate
                 FROM synth_outcomes WHERE analysis_id = $1 ORDER BY id",
                &[&analysis_id],
            )
            .await?;
        let rates = rows
            .iter()
            .map(|row| {
                Ok([
                    get(row, TABLE, "did_not_try_rate")?,
                    get(row, TABLE, "failed_rate")?,
                    get(row, TABLE, "success_rate")?,
                ])
            })
            .collect::<Result<Vec<[f64; 3]>>>()?;
        Ok(outcome_statistics(&rates))
    }
}
