//! [`RegionRepository`] over PostgreSQL.

use async_trait::async_trait;
use serde_json::Value;

use super::PgDb;
use crate::Result;
use crate::backend::driver::{Access, Driver};
use crate::backend::row::FromRow;
use crate::model::{NewRegionAnalysis, RegionAnalysis};
use crate::repo::RegionRepository;

/// Region analyses in PostgreSQL.
pub(crate) struct PgRegionRepository {
    db: PgDb,
}

impl PgRegionRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgRegionRepository { db }
    }
}

#[async_trait]
impl RegionRepository for PgRegionRepository {
    async fn save(&self, new: &NewRegionAnalysis) -> Result<RegionAnalysis> {
        self.db
            .fetch_written(
                "INSERT INTO region_analyses (id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                                              did_not_try_rate, failed_rate, success_rate, failure_delta)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 RETURNING id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                           did_not_try_rate, failed_rate, success_rate, failure_delta",
                &[
                    &new.id,
                    &new.simulation_id,
                    &new.rules,
                    &new.rule_text,
                    &new.synth_count,
                    &new.synth_percentage,
                    &new.did_not_try_rate,
                    &new.failed_rate,
                    &new.success_rate,
                    &new.failure_delta,
                ],
            )
            .await
    }

    async fn save_many(&self, new: &[NewRegionAnalysis]) -> Result<Vec<RegionAnalysis>> {
        let batch = new;
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let column = |f: fn(&NewRegionAnalysis) -> f64| batch.iter().map(f).collect::<Vec<f64>>();
        let ids: Vec<&str> = batch.iter().map(|r| r.id.as_str()).collect();
        let simulation_ids: Vec<&str> = batch.iter().map(|r| r.simulation_id.as_str()).collect();
        let rules: Vec<&Value> = batch.iter().map(|r| &r.rules).collect();
        let rule_texts: Vec<&str> = batch.iter().map(|r| r.rule_text.as_str()).collect();
        let synth_counts: Vec<i64> = batch.iter().map(|r| r.synth_count).collect();
        let synth_percentages = column(|r| r.synth_percentage);
        let did_not_try_rates = column(|r| r.did_not_try_rate);
        let failed_rates = column(|r| r.failed_rate);
        let success_rates = column(|r| r.success_rate);
        let failure_deltas = column(|r| r.failure_delta);
        // One statement is atomic: a failing row rolls back the whole batch. The rows come
        // back in input order (ordinality), not in whatever order RETURNING produces.
        self.db
            .fetch_rows(
                Access::Write,
                "WITH input AS (
                     SELECT i.id, i.simulation_id, i.rules, i.rule_text, i.synth_count, i.synth_percentage,
                            i.did_not_try_rate, i.failed_rate, i.success_rate, i.failure_delta, i.n
                     FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::int8[],
                                          $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[])
                         WITH ORDINALITY AS i(id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                                              did_not_try_rate, failed_rate, success_rate, failure_delta, n)
                 ), inserted AS (
                     INSERT INTO region_analyses (id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                                                  did_not_try_rate, failed_rate, success_rate, failure_delta)
                     SELECT id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                            did_not_try_rate, failed_rate, success_rate, failure_delta
                     FROM input ORDER BY n
                     RETURNING id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                               did_not_try_rate, failed_rate, success_rate, failure_delta
                 )
                 SELECT r.id, r.simulation_id, r.rules, r.rule_text, r.synth_count, r.synth_percentage,
                        r.did_not_try_rate, r.failed_rate, r.success_rate, r.failure_delta
                 FROM inserted r JOIN input ON input.id COLLATE \"C\" = r.id
                 ORDER BY input.n"
                    .into(),
                &[
                    &ids,
                    &simulation_ids,
                    &rules,
                    &rule_texts,
                    &synth_counts,
                    &synth_percentages,
                    &did_not_try_rates,
                    &failed_rates,
                    &success_rates,
                    &failure_deltas,
                ],
                RegionAnalysis::from_row,
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<RegionAnalysis>> {
        self.db
            .fetch_opt(
                "SELECT id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                        did_not_try_rate, failed_rate, success_rate, failure_delta
                 FROM region_analyses WHERE id = $1",
                &[&id],
            )
            .await
    }

    async fn list_by_simulation(&self, simulation_id: &str) -> Result<Vec<RegionAnalysis>> {
        self.db
            .fetch_all(
                "SELECT id, simulation_id, rules, rule_text, synth_count, synth_percentage,
                        did_not_try_rate, failed_rate, success_rate, failure_delta
                 FROM region_analyses WHERE simulation_id = $1
                 ORDER BY failure_delta DESC, id ASC",
                &[&simulation_id],
            )
            .await
    }

    async fn delete_by_simulation(&self, simulation_id: &str) -> Result<u64> {
        self.db
            .execute_count(
                "DELETE FROM region_analyses WHERE simulation_id = $1",
                &[&simulation_id],
            )
            .await
    }
}
