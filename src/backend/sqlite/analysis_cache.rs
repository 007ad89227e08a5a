//! [`AnalysisCacheRepository`] over SQLite.

use async_trait::async_trait;

use super::SqliteDb;
use super::driver::execute_on;
use super::row::args;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{AnalysisCacheEntry, NewCacheEntry, now};
use crate::repo::AnalysisCacheRepository;

/// Analysis cache entries in the legacy SQLite store.
pub(crate) struct SqliteAnalysisCacheRepository {
    db: SqliteDb,
}

impl SqliteAnalysisCacheRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteAnalysisCacheRepository { db }
    }
}

#[async_trait]
impl AnalysisCacheRepository for SqliteAnalysisCacheRepository {
    async fn get(&self, analysis_id: &str, cache_key: &str) -> Result<Option<AnalysisCacheEntry>> {
        self.db
            .fetch_opt(
                "SELECT analysis_id, cache_key, data, params, computed_at
                 FROM analysis_cache WHERE analysis_id = ?1 AND cache_key = ?2",
                args![analysis_id, cache_key],
            )
            .await
    }

    async fn list(&self, analysis_id: &str) -> Result<Vec<AnalysisCacheEntry>> {
        self.db
            .fetch_all(
                "SELECT analysis_id, cache_key, data, params, computed_at
                 FROM analysis_cache WHERE analysis_id = ?1 ORDER BY cache_key",
                args![analysis_id],
            )
            .await
    }

    async fn save(&self, entry: &NewCacheEntry) -> Result<AnalysisCacheEntry> {
        self.db
            .fetch_written(
                "INSERT INTO analysis_cache (analysis_id, cache_key, data, params, computed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (analysis_id, cache_key) DO UPDATE
                 SET data = excluded.data, params = excluded.params, computed_at = excluded.computed_at
                 RETURNING analysis_id, cache_key, data, params, computed_at",
                args![
                    entry.analysis_id,
                    entry.cache_key,
                    entry.data,
                    entry.params,
                    entry.computed_at.unwrap_or_else(now)
                ],
            )
            .await
    }

    async fn save_many(&self, entries: &[NewCacheEntry]) -> Result<u64> {
        let now = now();
        let rows: Vec<_> = NewCacheEntry::last_per_key(entries)
            .into_iter()
            .map(|entry| {
                args![
                    entry.analysis_id,
                    entry.cache_key,
                    entry.data,
                    entry.params,
                    entry.computed_at.unwrap_or(now)
                ]
            })
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        // One transaction, one cached statement executed per entry.
        self.db
            .write(move |conn| {
                rows.iter()
                    .map(|args| {
                        execute_on(
                            conn,
                            "INSERT INTO analysis_cache (analysis_id, cache_key, data, params, computed_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)
                             ON CONFLICT (analysis_id, cache_key) DO UPDATE
                             SET data = excluded.data, params = excluded.params, computed_at = excluded.computed_at",
                            args,
                        )
                    })
                    .sum()
            })
            .await
    }

    async fn delete(&self, analysis_id: &str, cache_key: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count(
                "DELETE FROM analysis_cache WHERE analysis_id = ?1 AND cache_key = ?2",
                args![analysis_id, cache_key],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_all(&self, analysis_id: &str) -> Result<u64> {
        self.db
            .execute_count("DELETE FROM analysis_cache WHERE analysis_id = ?1", args![analysis_id])
            .await
    }
}
