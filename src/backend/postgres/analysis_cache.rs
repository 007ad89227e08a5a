//! [`AnalysisCacheRepository`] over PostgreSQL.

use async_trait::async_trait;
use serde_json::Value;

use super::PgDb;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{AnalysisCacheEntry, NewCacheEntry, Timestamp, now};
use crate::repo::AnalysisCacheRepository;

/// Analysis cache entries in PostgreSQL.
pub(crate) struct PgAnalysisCacheRepository {
    db: PgDb,
}

impl PgAnalysisCacheRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgAnalysisCacheRepository { db }
    }
}

#[async_trait]
impl AnalysisCacheRepository for PgAnalysisCacheRepository {
    async fn get(&self, analysis_id: &str, cache_key: &str) -> Result<Option<AnalysisCacheEntry>> {
        self.db
            .fetch_opt(
                "SELECT analysis_id, cache_key, data, params, computed_at
                 FROM analysis_cache WHERE analysis_id = $1 AND cache_key = $2",
                &[&analysis_id, &cache_key],
            )
            .await
    }

    async fn list(&self, analysis_id: &str) -> Result<Vec<AnalysisCacheEntry>> {
        self.db
            .fetch_all(
                "SELECT analysis_id, cache_key, data, params, computed_at
                 FROM analysis_cache WHERE analysis_id = $1 ORDER BY cache_key",
                &[&analysis_id],
            )
            .await
    }

    async fn save(&self, entry: &NewCacheEntry) -> Result<AnalysisCacheEntry> {
        self.db
            .fetch_written(
                "INSERT INTO analysis_cache (analysis_id, cache_key, data, params, computed_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (analysis_id, cache_key) DO UPDATE
                 SET data = excluded.data, params = excluded.params, computed_at = excluded.computed_at
                 RETURNING analysis_id, cache_key, data, params, computed_at",
                &[
                    &entry.analysis_id,
                    &entry.cache_key,
                    &entry.data,
                    &entry.params,
                    &entry.computed_at.unwrap_or_else(now),
                ],
            )
            .await
    }

    async fn save_many(&self, entries: &[NewCacheEntry]) -> Result<u64> {
        // One row per (analysis, key): ON CONFLICT cannot touch a row twice in one statement.
        let entries = NewCacheEntry::last_per_key(entries);
        if entries.is_empty() {
            return Ok(0);
        }
        let now = now();
        let analysis_ids: Vec<&str> = entries.iter().map(|e| e.analysis_id.as_str()).collect();
        let keys: Vec<&str> = entries.iter().map(|e| e.cache_key.as_str()).collect();
        let data: Vec<&Value> = entries.iter().map(|e| &e.data).collect();
        let params: Vec<Option<&Value>> = entries.iter().map(|e| e.params.as_ref()).collect();
        let computed_at: Vec<Timestamp> = entries.iter().map(|e| e.computed_at.unwrap_or(now)).collect();
        self.db
            .execute_count(
                "INSERT INTO analysis_cache (analysis_id, cache_key, data, params, computed_at)
                 SELECT t.analysis_id, t.cache_key, t.data, t.params, t.computed_at
                 FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::jsonb[], $5::timestamptz[])
                      AS t(analysis_id, cache_key, data, params, computed_at)
                 ON CONFLICT (analysis_id, cache_key) DO UPDATE
                 SET data = excluded.data, params = excluded.params, computed_at = excluded.computed_at",
                &[&analysis_ids, &keys, &data, &params, &computed_at],
            )
            .await
    }

    async fn delete(&self, analysis_id: &str, cache_key: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count(
                "DELETE FROM analysis_cache WHERE analysis_id = $1 AND cache_key = $2",
                &[&analysis_id, &cache_key],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_all(&self, analysis_id: &str) -> Result<u64> {
        self.db
            .execute_count("DELETE FROM analysis_cache WHERE analysis_id = $1", &[&analysis_id])
            .await
    }
}
