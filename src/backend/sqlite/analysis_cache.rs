//! [`AnalysisCacheRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::SqliteDb;
use super::row::{json, json_param, opt_json, opt_json_param, opt_ts_param, string, timestamp};
use crate::model::{AnalysisCacheEntry, NewCacheEntry, now};
use crate::repo::AnalysisCacheRepository;
use crate::{Error, Result};

const TABLE: &str = "analysis_cache";

/// Analysis cache entries in the legacy SQLite store.
pub(crate) struct SqliteAnalysisCacheRepository {
    db: SqliteDb,
}

impl SqliteAnalysisCacheRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteAnalysisCacheRepository { db }
    }
}

fn cache_entry(row: &Row<'_>) -> Result<AnalysisCacheEntry> {
    Ok(AnalysisCacheEntry {
        analysis_id: string(row, TABLE, "analysis_id")?,
        cache_key: string(row, TABLE, "cache_key")?,
        data: json(row, TABLE, "data")?,
        params: opt_json(row, TABLE, "params")?,
        computed_at: timestamp(row, TABLE, "computed_at")?,
    })
}

#[async_trait]
impl AnalysisCacheRepository for SqliteAnalysisCacheRepository {
    async fn get(&self, analysis_id: &str, cache_key: &str) -> Result<Option<AnalysisCacheEntry>> {
        let (analysis_id, cache_key) = (analysis_id.to_owned(), cache_key.to_owned());
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT analysis_id, cache_key, data, params, computed_at
                     FROM analysis_cache WHERE analysis_id = ?1 AND cache_key = ?2",
                )?;
                let mut rows = stmt.query([analysis_id, cache_key])?;
                rows.next()?.map(cache_entry).transpose()
            })
            .await
    }

    async fn list(&self, analysis_id: &str) -> Result<Vec<AnalysisCacheEntry>> {
        let analysis_id = analysis_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT analysis_id, cache_key, data, params, computed_at
                     FROM analysis_cache WHERE analysis_id = ?1 ORDER BY cache_key",
                )?;
                let mut rows = stmt.query([analysis_id])?;
                let mut entries = Vec::new();
                while let Some(row) = rows.next()? {
                    entries.push(cache_entry(row)?);
                }
                Ok(entries)
            })
            .await
    }

    async fn save(&self, entry: &NewCacheEntry) -> Result<AnalysisCacheEntry> {
        let entry = NewCacheEntry {
            computed_at: Some(entry.computed_at.unwrap_or_else(now)),
            ..entry.clone()
        };
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO analysis_cache (analysis_id, cache_key, data, params, computed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (analysis_id, cache_key) DO UPDATE
                     SET data = excluded.data, params = excluded.params, computed_at = excluded.computed_at
                     RETURNING analysis_id, cache_key, data, params, computed_at",
                )?;
                let mut rows = stmt.query(params![
                    entry.analysis_id,
                    entry.cache_key,
                    json_param(&entry.data),
                    opt_json_param(&entry.params),
                    opt_ts_param(&entry.computed_at)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                cache_entry(row)
            })
            .await
    }

    async fn save_many(&self, entries: &[NewCacheEntry]) -> Result<u64> {
        let now = now();
        let entries: Vec<NewCacheEntry> = NewCacheEntry::last_per_key(entries)
            .into_iter()
            .map(|e| NewCacheEntry {
                computed_at: Some(e.computed_at.unwrap_or(now)),
                ..e.clone()
            })
            .collect();
        if entries.is_empty() {
            return Ok(0);
        }
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO analysis_cache (analysis_id, cache_key, data, params, computed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (analysis_id, cache_key) DO UPDATE
                     SET data = excluded.data, params = excluded.params, computed_at = excluded.computed_at",
                )?;
                let mut saved = 0u64;
                for entry in &entries {
                    saved += stmt.execute(params![
                        entry.analysis_id,
                        entry.cache_key,
                        json_param(&entry.data),
                        opt_json_param(&entry.params),
                        opt_ts_param(&entry.computed_at)
                    ])? as u64;
                }
                Ok(saved)
            })
            .await
    }

    async fn delete(&self, analysis_id: &str, cache_key: &str) -> Result<bool> {
        let (analysis_id, cache_key) = (analysis_id.to_owned(), cache_key.to_owned());
        let deleted = self
            .db
            .execute(
                "DELETE FROM analysis_cache WHERE analysis_id = ?1 AND cache_key = ?2",
                [analysis_id, cache_key],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_all(&self, analysis_id: &str) -> Result<u64> {
        let analysis_id = analysis_id.to_owned();
        let deleted = self
            .db
            .execute("DELETE FROM analysis_cache WHERE analysis_id = ?1", [analysis_id])
            .await?;
        Ok(deleted)
    }
}
