//! [`ExperimentRepository`]: experiments, soft-deleted via `status`.

use async_trait::async_trait;
use serde_json::Value;

use crate::Result;
use crate::model::{Experiment, ExperimentChanges, ExperimentSummary, NewExperiment, Page, PageRequest};

/// Experiments (`experiments`). Deleted experiments are invisible to every read.
#[super::repository]
#[async_trait]
pub trait ExperimentRepository: Send + Sync {
    /// Creates an experiment (status `active`, `updated_at` unset).
    ///
    /// # Errors
    /// Conflict when the id exists; Check when name > 100, hypothesis > 500 or description
    /// > 2000 characters.
    #[write]
    async fn create(&self, new: &NewExperiment) -> Result<Experiment>;

    /// The active experiment with this id, or `None` (also for a soft-deleted one).
    #[read]
    async fn get(&self, id: &str) -> Result<Option<Experiment>>;

    /// Active experiments, newest first (ties by id, descending), with what exists around
    /// each (scorecard, analysis, interview guide, number of interviews).
    ///
    /// # Errors
    /// InvalidInput for a page outside 1..=200 rows or a negative offset.
    #[read]
    async fn list(&self, page: PageRequest) -> Result<Page<ExperimentSummary>>;

    /// Changes name, hypothesis and/or description and sets `updated_at`.
    ///
    /// # Errors
    /// NotFound when no active experiment has this id; Check for over-long values.
    #[write]
    async fn update(&self, id: &str, changes: &ExperimentChanges) -> Result<Experiment>;

    /// Replaces the scorecard and sets `updated_at`.
    ///
    /// # Errors
    /// NotFound when no active experiment has this id.
    #[write]
    async fn update_scorecard(&self, id: &str, scorecard: &Value) -> Result<Experiment>;

    /// Marks the experiment deleted (its rows stay for the record).
    ///
    /// # Errors
    /// NotFound when no active experiment has this id.
    #[write]
    async fn soft_delete(&self, id: &str) -> Result<()>;
}
