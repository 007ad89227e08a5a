//! Generated markdown documents of an experiment (`experiment_documents`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Timestamp;

string_enum! {
    /// `experiment_documents.document_type`.
    DocumentType { Summary = "summary", Prfaq = "prfaq", ExecutiveSummary = "executive_summary" }
}

string_enum! {
    /// `experiment_documents.status`.
    DocumentStatus {
        Pending = "pending",
        Generating = "generating",
        Completed = "completed",
        Failed = "failed",
        Partial = "partial",
    }
}

/// A generated document (`experiment_documents`; unique per experiment and type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentDocument {
    /// Primary key.
    pub id: String,
    /// The experiment.
    pub experiment_id: String,
    /// Which document.
    pub document_type: DocumentType,
    /// The markdown text.
    pub markdown_content: String,
    /// Generation metadata.
    pub metadata: Option<Value>,
    /// When it was generated.
    pub generated_at: Timestamp,
    /// The LLM used.
    pub model: Option<String>,
    /// Generation state.
    pub status: DocumentStatus,
    /// Why generation failed.
    pub error_message: Option<String>,
}
