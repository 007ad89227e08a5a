//! [`SynthOutcomeRepository`] over SQLite.

use async_trait::async_trait;

use super::SqliteDb;
use super::driver::execute_on;
use super::row::{SqliteArgs, args};
use crate::Result;
use crate::backend::driver::Driver;
use crate::backend::from_row::rates_row;
use crate::backend::row::{FromRow, Row};
use crate::model::{
    NewSynthOutcome, OutcomeStatistics, Page, PageRequest, SynthOutcome, Timestamp, outcome_statistics,
};
use crate::repo::SynthOutcomeRepository;

/// Synth outcomes in the legacy SQLite store.
pub(crate) struct SqliteSynthOutcomeRepository {
    db: SqliteDb,
}

impl SqliteSynthOutcomeRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSynthOutcomeRepository { db }
    }
}

/// An outcome with the start of its analysis run.
fn outcome_and_start(row: &dyn Row) -> Result<(Timestamp, SynthOutcome)> {
    Ok((row.of("analysis_runs").get("started_at")?, SynthOutcome::from_row(row)?))
}

/// The INSERT of one outcome (its parameters: [`outcome_args`]).
macro_rules! insert_outcome {
    () => {
        "INSERT INTO synth_outcomes
             (id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    };
}

fn outcome_args(new: &NewSynthOutcome) -> SqliteArgs {
    args![
        new.id,
        new.analysis_id,
        new.synth_id,
        new.did_not_try_rate,
        new.failed_rate,
        new.success_rate,
        new.synth_attributes
    ]
}

#[async_trait]
impl SynthOutcomeRepository for SqliteSynthOutcomeRepository {
    async fn create(&self, new: &NewSynthOutcome) -> Result<SynthOutcome> {
        self.db
            .fetch_written(
                concat!(
                    insert_outcome!(),
                    " RETURNING id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes"
                ),
                outcome_args(new),
            )
            .await
    }

    async fn create_batch(&self, outcomes: &[NewSynthOutcome]) -> Result<u64> {
        if outcomes.is_empty() {
            return Ok(0);
        }
        let rows: Vec<_> = outcomes.iter().map(outcome_args).collect();
        // One transaction, one cached statement executed per row.
        self.db
            .write(move |conn| rows.iter().map(|args| execute_on(conn, insert_outcome!(), args)).sum())
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SynthOutcome>> {
        self.db
            .fetch_opt(
                "SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                 FROM synth_outcomes WHERE id = ?1",
                args![id],
            )
            .await
    }

    async fn list_by_analysis(&self, analysis_id: &str, page: PageRequest) -> Result<Page<SynthOutcome>> {
        self.db
            .fetch_page(
                "WITH total AS (SELECT count(*) AS n FROM synth_outcomes WHERE analysis_id = ?1)
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                     FROM synth_outcomes WHERE analysis_id = ?1
                     ORDER BY synth_id, id
                     LIMIT ?2 OFFSET ?3
                 ) p ON 1
                 ORDER BY p.synth_id, p.id",
                args![analysis_id, page.limit, page.offset],
                page,
            )
            .await
    }

    async fn count_by_analysis(&self, analysis_id: &str) -> Result<i64> {
        let count = self
            .db
            .fetch_value(
                "SELECT count(*) AS value FROM synth_outcomes WHERE analysis_id = ?1",
                args![analysis_id],
            )
            .await?;
        Ok(count.unwrap_or(0))
    }

    async fn delete_by_analysis(&self, analysis_id: &str) -> Result<u64> {
        self.db
            .execute_count("DELETE FROM synth_outcomes WHERE analysis_id = ?1", args![analysis_id])
            .await
    }

    async fn get_by_synth(&self, analysis_id: &str, synth_id: &str) -> Result<Option<SynthOutcome>> {
        self.db
            .fetch_opt(
                "SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                 FROM synth_outcomes WHERE analysis_id = ?1 AND synth_id = ?2",
                args![analysis_id, synth_id],
            )
            .await
    }

    async fn latest_for_synth(&self, synth_id: &str) -> Result<Option<SynthOutcome>> {
        // A synth has one outcome per analysis run. Legacy files store started_at in several
        // text shapes, and neither text nor julianday() (millisecond resolution) orders them by
        // instant at microsecond precision, so the runs are compared here on the parsed
        // instant, as PostgreSQL compares timestamptz (ties by run id).
        let outcomes: Vec<_> = self
            .db
            .fetch_mapped(
                "SELECT o.id, o.analysis_id, o.synth_id, o.did_not_try_rate, o.failed_rate, o.success_rate,
                        o.synth_attributes, a.started_at
                 FROM synth_outcomes o JOIN analysis_runs a ON a.id = o.analysis_id
                 WHERE o.synth_id = ?1",
                args![synth_id],
                outcome_and_start,
            )
            .await?;
        let latest = outcomes
            .into_iter()
            .max_by(|(a_at, a), (b_at, b)| (a_at, &a.analysis_id).cmp(&(b_at, &b.analysis_id)));
        Ok(latest.map(|(_, outcome)| outcome))
    }

    async fn statistics(&self, analysis_id: &str) -> Result<OutcomeStatistics> {
        // Rates in id order: the shared function gives the same bits on both backends.
        let rates: Vec<[f64; 3]> = self
            .db
            .fetch_mapped(
                "SELECT did_not_try_rate, failed_rate, success_rate
                 FROM synth_outcomes WHERE analysis_id = ?1 ORDER BY id",
                args![analysis_id],
                rates_row,
            )
            .await?;
        Ok(outcome_statistics(&rates))
    }
}
