//! [`AnalysisCacheRepository`] over SQLite.

use async_trait::async_trait;

use super::SqliteDb;
use super::driver::execute_on;
use super::row::{SqliteArgs, args};
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{AnalysisCacheEntry, NewCacheEntry, Timestamp, now};
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

/// The upsert of one entry (its parameters: [`entry_args`]).
macro_rules! upsert_entry {
    () => {
        "INSERT INTO analysis_cache (analysis_id, cache_key, data, params, computed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (analysis_id, cache_key) DO UPDATE
         SET data = excluded.data, params = excluded.params, computed_at = excluded.computed_at"
    };
}

/// The parameters of [`upsert_entry`], computed `now` unless the entry says when.
fn entry_args(entry: &NewCacheEntry, now: Timestamp) -> SqliteArgs {
    args![
        entry.analysis_id,
        entry.cache_key,
        entry.data,
        entry.params,
        entry.computed_at.unwrap_or(now)
    ]
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
                concat!(
                    upsert_entry!(),
                    " RETURNING analysis_id, cache_key, data, params, computed_at"
                ),
                entry_args(entry, now()),
            )
            .await
    }

    async fn save_many(&self, entries: &[NewCacheEntry]) -> Result<u64> {
        let now = now();
        let rows: Vec<_> = NewCacheEntry::last_per_key(entries)
            .into_iter()
            .map(|entry| entry_args(entry, now))
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        // One transaction, one cached statement executed per entry.
        self.db
            .write(move |conn| rows.iter().map(|args| execute_on(conn, upsert_entry!(), args)).sum())
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
