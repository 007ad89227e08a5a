//! Interview batches (`research_executions`) and their transcripts (`transcripts`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Input, Timestamp};

string_enum! {
    /// `research_executions.status`.
    ExecutionStatus {
        Pending = "pending",
        Running = "running",
        GeneratingSummary = "generating_summary",
        Completed = "completed",
        Failed = "failed",
    }
}

/// An interview batch (`research_executions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResearchExecution {
    /// Primary key.
    pub exec_id: String,
    /// The experiment (set to NULL when the experiment is deleted).
    pub experiment_id: Option<String>,
    /// Topic of the interviews.
    pub topic_name: String,
    /// Lifecycle state.
    pub status: ExecutionStatus,
    /// How many synths are interviewed.
    pub synth_count: i64,
    /// How many interviews succeeded.
    pub successful_count: Option<i64>,
    /// How many interviews failed.
    pub failed_count: Option<i64>,
    /// The LLM used.
    pub model: Option<String>,
    /// Turn limit per interview.
    pub max_turns: Option<i64>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    pub completed_at: Option<Timestamp>,
    /// Extra context given to the interviewer.
    pub additional_context: Option<String>,
}

/// One interview's messages (`transcripts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Primary key.
    pub id: String,
    /// The execution.
    pub exec_id: String,
    /// The synth interviewed (unique per execution).
    pub synth_id: String,
    /// The synth's name at interview time.
    pub synth_name: String,
    /// Free-form legacy status (no enumeration in the legacy schema).
    pub status: String,
    /// Number of turns.
    pub turn_count: Option<i64>,
    /// When the transcript was written.
    pub timestamp: Timestamp,
    /// The messages.
    pub messages: Option<Value>,
}

/// What a caller supplies to create an interview batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewResearchExecution {
    /// Primary key; [`NewResearchExecution::new`] generates one.
    pub exec_id: String,
    /// The experiment, if any.
    pub experiment_id: Option<String>,
    /// Topic of the interviews.
    pub topic_name: String,
    /// Initial state (usually [`ExecutionStatus::Pending`]).
    pub status: ExecutionStatus,
    /// How many synths are interviewed.
    pub synth_count: i64,
    /// The LLM used (stored as given; `None` stores NULL).
    pub model: Option<String>,
    /// Turn limit per interview (stored as given; `None` stores NULL).
    pub max_turns: Option<i64>,
    /// Start time; `None` means now.
    pub started_at: Option<Timestamp>,
    /// Extra context given to the interviewer.
    pub additional_context: Option<String>,
}

impl NewResearchExecution {
    /// A pending batch with a generated id and the legacy defaults (`gpt-4o-mini`, 6 turns).
    pub fn new(topic_name: impl Into<String>, synth_count: i64) -> Self {
        NewResearchExecution {
            exec_id: super::id::generate("exec", 12),
            experiment_id: None,
            topic_name: topic_name.into(),
            status: ExecutionStatus::Pending,
            synth_count,
            model: Some("gpt-4o-mini".to_owned()),
            max_turns: Some(6),
            started_at: None,
            additional_context: None,
        }
    }
}

/// Progress of an interview batch to record; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Input)]
pub struct ExecutionChanges {
    /// New state.
    pub status: Option<ExecutionStatus>,
    /// New number of successful interviews.
    pub successful_count: Option<i64>,
    /// New number of failed interviews.
    pub failed_count: Option<i64>,
    /// Completion time.
    pub completed_at: Option<Timestamp>,
}

/// Which executions a listing returns; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Input)]
pub struct ExecutionFilter {
    /// Only executions in this state.
    pub status: Option<ExecutionStatus>,
    /// Only executions of this experiment.
    pub experiment_id: Option<String>,
}

/// An execution with what exists around it, computed in one statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionDetail {
    /// The execution.
    pub execution: ResearchExecution,
    /// How many transcripts it has.
    pub transcript_count: i64,
    /// Sum of its transcripts' `turn_count` (NULL counts as 0).
    pub total_turns: i64,
    /// Whether its experiment has a `summary` document (any document status).
    pub has_summary: bool,
    /// Whether its experiment has a `prfaq` document (any document status).
    pub has_prfaq: bool,
}

/// What a caller supplies to create or replace the transcript of one synth in one execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewTranscript {
    /// Primary key of a new row; [`NewTranscript::new`] generates one. When the execution
    /// already has a transcript of this synth, that row keeps its id.
    pub id: String,
    /// The execution.
    pub exec_id: String,
    /// The synth interviewed.
    pub synth_id: String,
    /// The synth's name at interview time.
    pub synth_name: String,
    /// Free-form status (legacy default `pending`).
    pub status: String,
    /// Number of turns.
    pub turn_count: Option<i64>,
    /// When the transcript was written; `None` means now.
    pub timestamp: Option<Timestamp>,
    /// The messages.
    pub messages: Option<Value>,
}

impl NewTranscript {
    /// A pending transcript with a generated id, no turns and no messages.
    pub fn new(exec_id: impl Into<String>, synth_id: impl Into<String>, synth_name: impl Into<String>) -> Self {
        NewTranscript {
            id: super::id::generate("trn", 12),
            exec_id: exec_id.into(),
            synth_id: synth_id.into(),
            synth_name: synth_name.into(),
            status: "pending".to_owned(),
            turn_count: Some(0),
            timestamp: None,
            messages: None,
        }
    }
}
