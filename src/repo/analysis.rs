//! [`AnalysisRepository`]: the quantitative analysis of an experiment (one per experiment).

use async_trait::async_trait;

use crate::Result;
use crate::model::{AnalysisRun, AnalysisStatusUpdate, NewAnalysisRun};

/// Analysis runs (`analysis_runs`). Deleting a run deletes its outcomes and cache entries.
#[super::repository]
#[async_trait]
pub trait AnalysisRepository: Send + Sync {
    /// Creates an analysis run (`completed_at`, outcomes and time unset, `total_synths` 0).
    ///
    /// # Errors
    /// Conflict when the id exists or the experiment already has an analysis; ForeignKey when
    /// the experiment does not exist; InvalidInput for text or JSON holding a NUL character.
    #[write]
    async fn create(&self, new: &NewAnalysisRun) -> Result<AnalysisRun>;

    /// The run with this id, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<AnalysisRun>>;

    /// The run of an experiment, or `None` (the experiment's status is not looked at).
    #[read]
    async fn get_by_experiment(&self, experiment_id: &str) -> Result<Option<AnalysisRun>>;

    /// Sets the status and those of `completed_at`, `total_synths`, `aggregated_outcomes`,
    /// `execution_time_seconds` that `update` gives (`None` keeps the stored value).
    ///
    /// # Errors
    /// NotFound when no run has this id; InvalidInput for a non-finite execution time or JSON
    /// holding a NUL character.
    #[write]
    async fn update_status(&self, id: &str, update: &AnalysisStatusUpdate) -> Result<AnalysisRun>;

    /// Deletes a run with its outcomes and cache entries; returns whether it existed.
    ///
    /// # Errors
    /// ForeignKey when an exploration starts from this run.
    #[write]
    async fn delete(&self, id: &str) -> Result<bool>;

    /// Deletes the run of an experiment (as [`AnalysisRepository::delete`]); returns whether
    /// one existed.
    ///
    /// # Errors
    /// ForeignKey when an exploration starts from the run.
    #[write]
    async fn delete_by_experiment(&self, experiment_id: &str) -> Result<bool>;

    /// The id of the experiment's analysis if it has completed, else `None`.
    #[read]
    async fn latest_completed_id(&self, experiment_id: &str) -> Result<Option<String>>;
}
