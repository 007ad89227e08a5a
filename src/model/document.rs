//! Generated markdown documents of an experiment (`experiment_documents`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Input, Timestamp};

string_enum! {
    /// `experiment_documents.document_type`.
    DocumentType {
        /// The experiment summary.
        Summary = "summary",
        /// The press release / FAQ.
        Prfaq = "prfaq",
        /// The executive summary.
        ExecutiveSummary = "executive_summary",
    }
}

string_enum! {
    /// `experiment_documents.status`.
    DocumentStatus {
        /// Requested, not started.
        Pending = "pending",
        /// Being generated.
        Generating = "generating",
        /// Generated.
        Completed = "completed",
        /// Generation failed.
        Failed = "failed",
        /// Generated in part.
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

/// What a caller supplies to save (create or replace) a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewExperimentDocument {
    /// Primary key of a new row; [`NewExperimentDocument::new`] generates one. A save that
    /// replaces the experiment's document of this type keeps the stored id.
    pub id: String,
    /// The experiment.
    pub experiment_id: String,
    /// Which document.
    pub document_type: DocumentType,
    /// The markdown text.
    pub markdown_content: String,
    /// Generation metadata.
    pub metadata: Option<Value>,
    /// Generation time; `None` means now.
    pub generated_at: Option<Timestamp>,
    /// The LLM used.
    pub model: Option<String>,
    /// Generation state.
    pub status: DocumentStatus,
    /// Why generation failed.
    pub error_message: Option<String>,
}

impl NewExperimentDocument {
    /// A completed document with a generated id, generated now, without metadata or model.
    pub fn new(
        experiment_id: impl Into<String>,
        document_type: DocumentType,
        markdown_content: impl Into<String>,
    ) -> Self {
        NewExperimentDocument {
            id: super::id::generate("doc", 12),
            experiment_id: experiment_id.into(),
            document_type,
            markdown_content: markdown_content.into(),
            metadata: None,
            generated_at: None,
            model: None,
            status: DocumentStatus::Completed,
            error_message: None,
        }
    }
}

/// A document without its markdown text (for listings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentSummary {
    /// Primary key.
    pub id: String,
    /// The experiment.
    pub experiment_id: String,
    /// Which document.
    pub document_type: DocumentType,
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

/// A status change of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct DocumentStatusUpdate {
    /// The new state.
    pub status: DocumentStatus,
    /// The new error message; `None` clears it.
    pub error_message: Option<String>,
    /// New markdown text (also sets `generated_at` to now); `None` keeps the stored text.
    pub markdown_content: Option<String>,
    /// New metadata; `None` keeps the stored metadata.
    pub metadata: Option<Value>,
}

impl DocumentStatusUpdate {
    /// A change of the status alone (clears the error message).
    pub fn new(status: DocumentStatus) -> Self {
        DocumentStatusUpdate {
            status,
            error_message: None,
            markdown_content: None,
            metadata: None,
        }
    }
}
