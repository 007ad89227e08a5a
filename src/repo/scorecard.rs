//! [`ScorecardRepository`]: legacy feature scorecards.

use async_trait::async_trait;
use serde_json::Value;

use crate::Result;
use crate::model::{FeatureScorecard, NewScorecard, Page, PageRequest};

/// Legacy scorecards (`feature_scorecards`; scorecards now live in `experiments`).
#[super::repository]
#[async_trait]
pub trait ScorecardRepository: Send + Sync {
    /// Creates a scorecard (`updated_at` unset).
    ///
    /// # Errors
    /// Conflict when the id exists; ForeignKey when `experiment_id` names no experiment.
    #[write]
    async fn create(&self, new: &NewScorecard) -> Result<FeatureScorecard>;

    /// The scorecard with this id, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<FeatureScorecard>>;

    /// All scorecards, newest first (ties by id, descending).
    ///
    /// # Errors
    /// InvalidInput for a page outside 1..=200 rows or a negative offset.
    #[read]
    async fn list(&self, page: PageRequest) -> Result<Page<FeatureScorecard>>;

    /// The scorecards of one experiment, newest first (ties by id, descending).
    ///
    /// # Errors
    /// InvalidInput for a bad page.
    #[read]
    async fn list_by_experiment(&self, experiment_id: &str, page: PageRequest) -> Result<Page<FeatureScorecard>>;

    /// Replaces the scorecard data and sets `updated_at`.
    ///
    /// # Errors
    /// NotFound when no scorecard has this id.
    #[write]
    async fn update_data(&self, id: &str, data: &Value) -> Result<FeatureScorecard>;

    /// Deletes a scorecard; returns whether it existed.
    ///
    /// # Errors
    /// ForeignKey while simulation runs reference it.
    #[write]
    async fn delete(&self, id: &str) -> Result<bool>;
}
