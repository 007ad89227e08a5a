//! [`AnalysisCacheRepository`]: precomputed chart data of an analysis, plus the legacy
//! conventions that keep the executive summary and chart insights under cache keys.

use async_trait::async_trait;
use serde_json::Value;

use crate::Result;
use crate::model::{
    AnalysisCacheEntry, CHART_INSIGHT_CACHE_PREFIX, EXECUTIVE_SUMMARY_CACHE_KEY, NewCacheEntry, chart_insight_cache_key,
};

/// Analysis cache entries (`analysis_cache`; one per analysis and key).
#[super::repository]
#[async_trait]
pub trait AnalysisCacheRepository: Send + Sync {
    /// The entry of an analysis under a key, or `None`.
    #[read]
    async fn get(&self, analysis_id: &str, cache_key: &str) -> Result<Option<AnalysisCacheEntry>>;

    /// Every entry of an analysis, by key (byte order).
    #[read]
    async fn list(&self, analysis_id: &str) -> Result<Vec<AnalysisCacheEntry>>;

    /// Stores an entry, replacing data, params and `computed_at` of an existing one.
    ///
    /// # Errors
    /// ForeignKey when the analysis does not exist; InvalidInput for text/JSON holding a NUL
    /// character.
    #[write]
    async fn save(&self, entry: &NewCacheEntry) -> Result<AnalysisCacheEntry>;

    /// Stores many entries in one transaction, all or none (the last of several entries with
    /// the same analysis and key wins); returns how many distinct entries were stored.
    ///
    /// # Errors
    /// As [`AnalysisCacheRepository::save`] for any entry; nothing is stored then.
    #[write]
    async fn save_many(&self, entries: &[NewCacheEntry]) -> Result<u64>;

    /// Deletes one entry; returns whether it existed.
    #[write]
    async fn delete(&self, analysis_id: &str, cache_key: &str) -> Result<bool>;

    /// Deletes every entry of an analysis; returns how many there were.
    #[write]
    async fn delete_all(&self, analysis_id: &str) -> Result<u64>;

    /// Stores the executive summary of an analysis (under the key `executive_summary`).
    ///
    /// # Errors
    /// As [`AnalysisCacheRepository::save`].
    #[write]
    async fn save_executive_summary(&self, analysis_id: &str, summary: &Value) -> Result<AnalysisCacheEntry> {
        self.save(&NewCacheEntry::new(
            analysis_id,
            EXECUTIVE_SUMMARY_CACHE_KEY,
            summary.clone(),
        ))
        .await
    }

    /// The executive summary of an analysis, or `None`.
    #[read]
    async fn get_executive_summary(&self, analysis_id: &str) -> Result<Option<Value>> {
        Ok(self
            .get(analysis_id, EXECUTIVE_SUMMARY_CACHE_KEY)
            .await?
            .map(|entry| entry.data))
    }

    /// Stores the insight of one chart of an analysis (under the key `insight_<chart_type>`).
    ///
    /// # Errors
    /// As [`AnalysisCacheRepository::save`].
    #[write]
    async fn save_chart_insight(
        &self,
        analysis_id: &str,
        chart_type: &str,
        insight: &Value,
    ) -> Result<AnalysisCacheEntry> {
        self.save(&NewCacheEntry::new(
            analysis_id,
            chart_insight_cache_key(chart_type),
            insight.clone(),
        ))
        .await
    }

    /// The insight of one chart of an analysis, or `None`.
    #[read]
    async fn get_chart_insight(&self, analysis_id: &str, chart_type: &str) -> Result<Option<Value>> {
        Ok(self
            .get(analysis_id, &chart_insight_cache_key(chart_type))
            .await?
            .map(|entry| entry.data))
    }

    /// Every chart insight of an analysis as `(chart_type, insight)`, by chart type.
    #[read]
    async fn list_chart_insights(&self, analysis_id: &str) -> Result<Vec<(String, Value)>> {
        Ok(self
            .list(analysis_id)
            .await?
            .into_iter()
            .filter_map(|entry| {
                let chart_type = entry.cache_key.strip_prefix(CHART_INSIGHT_CACHE_PREFIX)?.to_owned();
                Some((chart_type, entry.data))
            })
            .collect())
    }
}
