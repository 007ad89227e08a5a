//! [`InterviewGuideRepository`]: the 1:1 interview setup of an experiment.

use async_trait::async_trait;

use crate::Result;
use crate::model::{InterviewGuide, InterviewGuideFields};

/// Interview guides (`interview_guide`), keyed by experiment.
#[super::repository]
#[async_trait]
pub trait InterviewGuideRepository: Send + Sync {
    /// Creates the guide of an experiment.
    ///
    /// # Errors
    /// Conflict when the experiment already has one; ForeignKey when the experiment does not exist.
    #[write]
    async fn create(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide>;

    /// The guide of an experiment, or `None`.
    #[read]
    async fn get(&self, experiment_id: &str) -> Result<Option<InterviewGuide>>;

    /// Whether the experiment has a guide.
    #[read]
    async fn exists(&self, experiment_id: &str) -> Result<bool>;

    /// Sets the fields given as `Some` (others keep their value) and `updated_at`.
    ///
    /// # Errors
    /// NotFound when the experiment has no guide.
    #[write]
    async fn update(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide>;

    /// Deletes the guide; returns whether one existed.
    #[write]
    async fn delete(&self, experiment_id: &str) -> Result<bool>;
}
