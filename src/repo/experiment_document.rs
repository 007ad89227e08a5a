//! [`ExperimentDocumentRepository`]: generated markdown documents of an experiment.

use async_trait::async_trait;

use crate::Result;
use crate::model::{
    DocumentStatus, DocumentStatusUpdate, DocumentSummary, DocumentType, ExperimentDocument, NewExperimentDocument,
};

/// Experiment documents (`experiment_documents`; one per experiment and type, deleted with
/// their experiment).
#[super::repository]
#[async_trait]
pub trait ExperimentDocumentRepository: Send + Sync {
    /// The document with this id, or `None`.
    #[read]
    async fn get(&self, id: &str) -> Result<Option<ExperimentDocument>>;

    /// The experiment's document of this type, or `None`.
    #[read]
    async fn get_by_type(&self, experiment_id: &str, document_type: DocumentType)
    -> Result<Option<ExperimentDocument>>;

    /// The experiment's documents without their text, by type (byte order of the stored
    /// string) then id.
    #[read]
    async fn list_summaries(&self, experiment_id: &str) -> Result<Vec<DocumentSummary>>;

    /// The markdown text of the experiment's document of this type, or `None`.
    #[read]
    async fn get_markdown(&self, experiment_id: &str, document_type: DocumentType) -> Result<Option<String>>;

    /// Stores a document; one that replaces the experiment's document of this type keeps
    /// its id and takes every other field of `new`.
    ///
    /// # Errors
    /// Conflict when a new document's id exists; ForeignKey when the experiment does not
    /// exist; InvalidInput for text/JSON holding a NUL character.
    #[write]
    async fn save(&self, new: &NewExperimentDocument) -> Result<ExperimentDocument>;

    /// Stores a pending document (empty text, no metadata or error, generated now), or resets
    /// the existing one of this type to that state (keeping its id).
    ///
    /// # Errors
    /// ForeignKey when the experiment does not exist; InvalidInput for a model name holding a
    /// NUL character.
    #[write]
    async fn create_pending(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
        model: Option<&str>,
    ) -> Result<ExperimentDocument>;

    /// Sets the status and error message, and the text (with `generated_at` = now) and
    /// metadata when `update` gives them.
    ///
    /// # Errors
    /// NotFound when the experiment has no document of this type; InvalidInput for
    /// text/JSON holding a NUL character.
    #[write]
    async fn update_status(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
        update: &DocumentStatusUpdate,
    ) -> Result<ExperimentDocument>;

    /// Deletes the experiment's document of this type; returns whether it existed.
    #[write]
    async fn delete(&self, experiment_id: &str, document_type: DocumentType) -> Result<bool>;

    /// The types of the documents the experiment has, in byte order of the stored string.
    #[read]
    async fn existing_types(&self, experiment_id: &str) -> Result<Vec<DocumentType>>;

    /// The status of the experiment's document of this type, or `None`.
    #[read]
    async fn status(&self, experiment_id: &str, document_type: DocumentType) -> Result<Option<DocumentStatus>>;
}
