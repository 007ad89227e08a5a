//! [`SynthOutcomeRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::SqliteDb;
use super::row::{float, int, opt_json, opt_json_param, opt_string, string, timestamp};
use crate::model::{NewSynthOutcome, OutcomeStatistics, Page, PageRequest, SynthOutcome, outcome_statistics};
use crate::repo::SynthOutcomeRepository;
use crate::{Error, Result};

const TABLE: &str = "synth_outcomes";

/// Synth outcomes in the legacy SQLite store.
pub(crate) struct SqliteSynthOutcomeRepository {
    db: SqliteDb,
}

impl SqliteSynthOutcomeRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSynthOutcomeRepository { db }
    }
}

fn synth_outcome(row: &Row<'_>) -> Result<SynthOutcome> {
    Ok(SynthOutcome {
        id: string(row, TABLE, "id")?,
        analysis_id: string(row, TABLE, "analysis_id")?,
        synth_id: string(row, TABLE, "synth_id")?,
        did_not_try_rate: float(row, TABLE, "did_not_try_rate")?,
        failed_rate: float(row, TABLE, "failed_rate")?,
        success_rate: float(row, TABLE, "success_rate")?,
        synth_attributes: opt_json(row, TABLE, "synth_attributes")?,
    })
}

#[async_trait]
impl SynthOutcomeRepository for SqliteSynthOutcomeRepository {
    async fn create(&self, new: &NewSynthOutcome) -> Result<SynthOutcome> {
        let new = new.clone();
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO synth_outcomes
                         (id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     RETURNING id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes",
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.analysis_id,
                    new.synth_id,
                    new.did_not_try_rate,
                    new.failed_rate,
                    new.success_rate,
                    opt_json_param(&new.synth_attributes)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                synth_outcome(row)
            })
            .await
    }

    async fn create_batch(&self, outcomes: &[NewSynthOutcome]) -> Result<u64> {
        let outcomes = outcomes.to_vec();
        if outcomes.is_empty() {
            return Ok(0);
        }
        // One transaction, one cached statement executed per row.
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO synth_outcomes
                         (id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                let mut inserted = 0u64;
                for new in &outcomes {
                    inserted += stmt.execute(params![
                        new.id,
                        new.analysis_id,
                        new.synth_id,
                        new.did_not_try_rate,
                        new.failed_rate,
                        new.success_rate,
                        opt_json_param(&new.synth_attributes)
                    ])? as u64;
                }
                Ok(inserted)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SynthOutcome>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                     FROM synth_outcomes WHERE id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(synth_outcome).transpose()
            })
            .await
    }

    async fn list_by_analysis(&self, analysis_id: &str, page: PageRequest) -> Result<Page<SynthOutcome>> {
        let analysis_id = analysis_id.to_owned();
        self.db
            .read(move |conn| {
                // One statement, so the total and the page come from the same snapshot.
                let mut stmt = conn.prepare_cached(
                    "WITH total AS (SELECT count(*) AS n FROM synth_outcomes WHERE analysis_id = ?1)
                     SELECT total.n AS total, p.* FROM total LEFT JOIN (
                         SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                         FROM synth_outcomes WHERE analysis_id = ?1
                         ORDER BY synth_id, id
                         LIMIT ?2 OFFSET ?3
                     ) p ON 1
                     ORDER BY p.synth_id, p.id",
                )?;
                let mut rows = stmt.query(params![analysis_id, page.limit, page.offset])?;
                let mut items = Vec::new();
                let mut total = 0;
                while let Some(row) = rows.next()? {
                    total = int(row, TABLE, "total")?;
                    if opt_string(row, TABLE, "id")?.is_none() {
                        continue;
                    }
                    items.push(synth_outcome(row)?);
                }
                Ok(Page::new(items, total, page))
            })
            .await
    }

    async fn count_by_analysis(&self, analysis_id: &str) -> Result<i64> {
        let analysis_id = analysis_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT count(*) AS n FROM synth_outcomes WHERE analysis_id = ?1")?;
                let mut rows = stmt.query([analysis_id])?;
                let row = rows.next()?.ok_or_else(|| Error::other("count(*) gave no row"))?;
                int(row, TABLE, "n")
            })
            .await
    }

    async fn delete_by_analysis(&self, analysis_id: &str) -> Result<u64> {
        let analysis_id = analysis_id.to_owned();
        let deleted = self
            .db
            .execute("DELETE FROM synth_outcomes WHERE analysis_id = ?1", [analysis_id])
            .await?;
        Ok(deleted)
    }

    async fn get_by_synth(&self, analysis_id: &str, synth_id: &str) -> Result<Option<SynthOutcome>> {
        let (analysis_id, synth_id) = (analysis_id.to_owned(), synth_id.to_owned());
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
                     FROM synth_outcomes WHERE analysis_id = ?1 AND synth_id = ?2",
                )?;
                let mut rows = stmt.query([analysis_id, synth_id])?;
                rows.next()?.map(synth_outcome).transpose()
            })
            .await
    }

    async fn latest_for_synth(&self, synth_id: &str) -> Result<Option<SynthOutcome>> {
        let synth_id = synth_id.to_owned();
        self.db
            .read(move |conn| {
                // A synth has one outcome per analysis run. Legacy files store started_at in
                // several text shapes, and neither text nor julianday() (millisecond
                // resolution) orders them by instant at microsecond precision, so the runs
                // are compared here on the parsed instant, as PostgreSQL compares timestamptz.
                let mut stmt = conn.prepare_cached(
                    "SELECT o.id, o.analysis_id, o.synth_id, o.did_not_try_rate, o.failed_rate, o.success_rate,
                            o.synth_attributes, a.started_at
                     FROM synth_outcomes o JOIN analysis_runs a ON a.id = o.analysis_id
                     WHERE o.synth_id = ?1",
                )?;
                let mut rows = stmt.query([synth_id])?;
                let mut latest: Option<(crate::model::Timestamp, SynthOutcome)> = None;
                while let Some(row) = rows.next()? {
                    let started_at = timestamp(row, "analysis_runs", "started_at")?;
                    let outcome = synth_outcome(row)?;
                    let newer = latest.as_ref().is_none_or(|(best_at, best)| {
                        (started_at, outcome.analysis_id.as_str()) > (*best_at, best.analysis_id.as_str())
                    });
                    if newer {
                        latest = Some((started_at, outcome));
                    }
                }
                Ok(latest.map(|(_, outcome)| outcome))
            })
            .await
    }

    async fn statistics(&self, analysis_id: &str) -> Result<OutcomeStatistics> {
        let analysis_id = analysis_id.to_owned();
        self.db
            .read(move |conn| {
                // Rates in id order: the shared function gives the same bits on both backends.
                let mut stmt = conn.prepare_cached(
                    "SELECT did_not_try_rate, failed_rate, success_rate
                     FROM synth_outcomes WHERE analysis_id = ?1 ORDER BY id",
                )?;
                let mut rows = stmt.query([analysis_id])?;
                let mut rates = Vec::new();
                while let Some(row) = rows.next()? {
                    rates.push([
                        float(row, TABLE, "did_not_try_rate")?,
                        float(row, TABLE, "failed_rate")?,
                        float(row, TABLE, "success_rate")?,
                    ]);
                }
                Ok(outcome_statistics(&rates))
            })
            .await
    }
}
