//! Experiments (`experiments`) and their interview guides (`interview_guide`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Input, Timestamp};

string_enum! {
    /// `experiments.status`: experiments are soft-deleted.
    ExperimentStatus { Active = "active", Deleted = "deleted" }
}

/// A feature hypothesis under study (`experiments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Primary key.
    pub id: String,
    /// Short name (≤ 100 characters).
    pub name: String,
    /// The hypothesis (≤ 500 characters).
    pub hypothesis: String,
    /// Optional description (≤ 2000 characters).
    pub description: Option<String>,
    /// The feature scorecard, as JSON.
    pub scorecard_data: Option<Value>,
    /// Active or soft-deleted.
    pub status: ExperimentStatus,
    /// When it was created.
    pub created_at: Timestamp,
    /// When name, hypothesis, description or scorecard last changed.
    pub updated_at: Option<Timestamp>,
}

/// What a caller supplies to create an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewExperiment {
    /// Primary key; [`NewExperiment::new`] generates one.
    pub id: String,
    /// Short name (≤ 100 characters).
    pub name: String,
    /// The hypothesis (≤ 500 characters).
    pub hypothesis: String,
    /// Optional description (≤ 2000 characters).
    pub description: Option<String>,
    /// Optional scorecard JSON.
    pub scorecard_data: Option<Value>,
    /// Creation time; `None` means now.
    pub created_at: Option<Timestamp>,
}

impl NewExperiment {
    /// A new experiment with a generated id and no description or scorecard.
    pub fn new(name: impl Into<String>, hypothesis: impl Into<String>) -> Self {
        NewExperiment {
            id: super::id::generate("exp", 12),
            name: name.into(),
            hypothesis: hypothesis.into(),
            description: None,
            scorecard_data: None,
            created_at: None,
        }
    }
}

/// Fields of an experiment to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Input)]
pub struct ExperimentChanges {
    /// New name.
    pub name: Option<String>,
    /// New hypothesis.
    pub hypothesis: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
}

/// One row of the experiment listing, with what exists around the experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentSummary {
    /// Primary key.
    pub id: String,
    /// Short name.
    pub name: String,
    /// The hypothesis.
    pub hypothesis: String,
    /// Optional description.
    pub description: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Option<Timestamp>,
    /// Whether `scorecard_data` is set.
    pub has_scorecard: bool,
    /// Whether an analysis run exists.
    pub has_analysis: bool,
    /// Whether an interview guide exists.
    pub has_interview_guide: bool,
    /// How many research executions (interviews) belong to it.
    pub interview_count: i64,
}

/// The 1:1 interview setup of an experiment (`interview_guide`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewGuide {
    /// The experiment (primary key).
    pub experiment_id: String,
    /// Context definition text.
    pub context_definition: Option<String>,
    /// Interview questions text.
    pub questions: Option<String>,
    /// Context examples text.
    pub context_examples: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Option<Timestamp>,
}

/// What a caller supplies to create or update an interview guide.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Input)]
pub struct InterviewGuideFields {
    /// Context definition text.
    pub context_definition: Option<String>,
    /// Interview questions text.
    pub questions: Option<String>,
    /// Context examples text.
    pub context_examples: Option<String>,
}
