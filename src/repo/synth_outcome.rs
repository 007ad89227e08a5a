//! [`SynthOutcomeRepository`]: per-synth rates of an analysis.

use async_trait::async_trait;

use crate::Result;
use crate::model::{NewSynthOutcome, OutcomeStatistics, Page, PageRequest, SynthOutcome};

/// Synth outcomes (`synth_outcomes`; one per synth and analysis).
#[super::repository]
#[async_trait]
pub trait SynthOutcomeRepository: Send + Sync {
    /// Stores one outcome.
    ///
    /// # Errors
    /// Conflict when the id exists or the synth already has an outcome in this analysis;
    /// ForeignKey when the analysis does not exist; InvalidInput for a non-finite rate or
    /// text/JSON holding a NUL character.
    #[write]
    async fn create(&self, new: &NewSynthOutcome) -> Result<SynthOutcome>;

    /// Stores many outcomes in one round trip, all or none; returns how many were stored.
    ///
    /// # Errors
    /// As [`SynthOutcomeRepository::create`] for any outcome of the batch (also for two
    /// outcomes of the same synth and analysis inside the batch); nothing is stored then.
    #[write]
    async fn create_batch(&self, outcomes: &[NewSynthOutcome]) -> Result<u64>;

    /// The outcome with this id, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<SynthOutcome>>;

    /// The outcomes of an analysis, by synth id then id (byte order).
    ///
    /// # Errors
    /// InvalidInput for a bad page.
    #[read]
    async fn list_by_analysis(&self, analysis_id: &str, page: PageRequest) -> Result<Page<SynthOutcome>>;

    /// How many outcomes an analysis has.
    #[read]
    async fn count_by_analysis(&self, analysis_id: &str) -> Result<i64>;

    /// Deletes the outcomes of an analysis; returns how many there were.
    #[write]
    async fn delete_by_analysis(&self, analysis_id: &str) -> Result<u64>;

    /// The outcome of a synth in an analysis, or `None`.
    #[read]
    async fn get_by_synth(&self, analysis_id: &str, synth_id: &str) -> Result<Option<SynthOutcome>>;

    /// The synth's outcome in the analysis run started last (newest `started_at` as an
    /// instant, whatever its stored shape; ties by analysis id, highest first), or `None`.
    #[read]
    async fn latest_for_synth(&self, synth_id: &str) -> Result<Option<SynthOutcome>>;

    /// Count, mean, min, max and sample standard deviation of each rate over the outcomes of
    /// an analysis, computed by [`crate::model::outcome_statistics`] over the rates in id
    /// order (so both backends give bit-identical numbers).
    #[read]
    async fn statistics(&self, analysis_id: &str) -> Result<OutcomeStatistics>;
}
