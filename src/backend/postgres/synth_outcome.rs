//! [`SynthOutcomeRepository`] over PostgreSQL.

use async_trait::async_trait;
use serde_json::Value;

use super::PgDb;
use crate::Result;
use crate::backend::driver::Driver;
use crate::backend::from_row::rates_row;
use crate::model::{NewSynthOutcome, OutcomeStatistics, Page, PageRequest, SynthOutcome, outcome_statistics};
use crate::repo::SynthOutcomeRepository;

/// Synth outcomes in PostgreSQL.
pub(crate) struct PgSynthOutcomeRepository {
    db: PgDb,
}

impl PgSynthOutcomeRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSynthOutcomeRepository { db }
    }
}

#[async_trait]
impl SynthOutcomeRepository for PgSynthOutcomeRepository {
    async fn create(&self, new: &NewSynthOutcome) -> Result<SynthOutcome> {
        self.db
            .fetch_written(
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
            .await
    }

    async fn create_batch(&self, outcomes: &[NewSynthOutcome]) -> Result<u64> {
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
            .execute_count(
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
            .fetch_opt(
                "SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                 FROM synth_outcomes WHERE id = $1",
                &[&id],
            )
            .await
    }

    async fn list_by_analysis(&self, analysis_id: &str, page: PageRequest) -> Result<Page<SynthOutcome>> {
        self.db
            .fetch_page(
                "WITH total AS (SELECT count(*) AS n FROM synth_outcomes WHERE analysis_id = $1)
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                     FROM synth_outcomes WHERE analysis_id = $1
                     ORDER BY synth_id, id
                     LIMIT $2 OFFSET $3
                 ) p ON true
                 ORDER BY p.synth_id, p.id",
                &[&analysis_id, &page.limit, &page.offset],
                page,
            )
            .await
    }

    async fn count_by_analysis(&self, analysis_id: &str) -> Result<i64> {
        let count = self
            .db
            .fetch_value(
                "SELECT count(*) AS value FROM synth_outcomes WHERE analysis_id = $1",
                &[&analysis_id],
            )
            .await?;
        Ok(count.unwrap_or(0))
    }

    async fn delete_by_analysis(&self, analysis_id: &str) -> Result<u64> {
        self.db
            .execute_count("DELETE FROM synth_outcomes WHERE analysis_id = $1", &[&analysis_id])
            .await
    }

    async fn get_by_synth(&self, analysis_id: &str, synth_id: &str) -> Result<Option<SynthOutcome>> {
        self.db
            .fetch_opt(
                "SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                 FROM synth_outcomes WHERE analysis_id = $1 AND synth_id = $2",
                &[&analysis_id, &synth_id],
            )
            .await
    }

    async fn latest_for_synth(&self, synth_id: &str) -> Result<Option<SynthOutcome>> {
        // A synth has one outcome per analysis run: the run started last wins, ties by run id.
        self.db
            .fetch_opt(
                "SELECT o.id, o.analysis_id, o.synth_id, o.did_not_try_rate, o.failed_rate, o.success_rate,
                        o.synth_attributes
                 FROM synth_outcomes o JOIN analysis_runs a ON a.id = o.analysis_id
                 WHERE o.synth_id = $1
                 ORDER BY a.started_at DESC, a.id DESC
                 LIMIT 1",
                &[&synth_id],
            )
            .await
    }

    async fn statistics(&self, analysis_id: &str) -> Result<OutcomeStatistics> {
        // Rates in id order: the shared function gives the same bits on both backends.
        let rates: Vec<[f64; 3]> = self
            .db
            .fetch_mapped(
                "SELECT did_not_try_rate, failed_rate, success_rate
                 FROM synth_outcomes WHERE analysis_id = $1 ORDER BY id",
                &[&analysis_id],
                rates_row,
            )
            .await?;
        Ok(outcome_statistics(&rates))
    }
}
