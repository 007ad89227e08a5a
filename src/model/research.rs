//! Interview batches (`research_executions`) and their transcripts (`transcripts`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Timestamp;

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
