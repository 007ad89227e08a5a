//! [`InterviewGuideRepository`]: the 1:1 interview setup of an experiment.

use async_trait::async_trait;

use crate::Result;
use crate::model::{InterviewGuide, InterviewGuideFields};

/// Interview guides (`interview_guide`), keyed by experiment.
#[crate::observe::traced]
#[async_trait]
pub trait InterviewGuideRepository: Send + Sync {
    /// Creates the guide of an experiment.
    ///
    /// # Errors
    /// Conflict when the experiment already has one; ForeignKey when the experiment does not exist.
    async fn create(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide>;

    /// The guide of an experiment, or `None`.
    async fn get(&self, experiment_id: &str) -> Result<Option<InterviewGuide>>;

    /// Whether the experiment has a guide.
    async fn exists(&self, experiment_id: &str) -> Result<bool>;

    /// Sets the fields given as `Some` (others keep their value) and `updated_at`.
    ///
    /// # Errors
    /// NotFound when the experiment has no guide.
    async fn update(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide>;

    /// Deletes the guide; returns whether one existed.
    async fn delete(&self, experiment_id: &str) -> Result<bool>;
}
