//! [`ExperimentDocumentRepository`] over SQLite.

use async_trait::async_trait;

use super::SqliteDb;
use super::row::args;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{
    DocumentStatus, DocumentStatusUpdate, DocumentSummary, DocumentType, ExperimentDocument, NewExperimentDocument, id,
    now,
};
use crate::repo::ExperimentDocumentRepository;

/// Experiment documents in the legacy SQLite store.
pub(crate) struct SqliteExperimentDocumentRepository {
    db: SqliteDb,
}

impl SqliteExperimentDocumentRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteExperimentDocumentRepository { db }
    }
}

#[async_trait]
impl ExperimentDocumentRepository for SqliteExperimentDocumentRepository {
    async fn get(&self, id: &str) -> Result<Option<ExperimentDocument>> {
        self.db
            .fetch_opt(
                "SELECT id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                        status, error_message
                 FROM experiment_documents WHERE id = ?1",
                args![id],
            )
            .await
    }

    async fn get_by_type(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
    ) -> Result<Option<ExperimentDocument>> {
        self.db
            .fetch_opt(
                "SELECT id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                        status, error_message
                 FROM experiment_documents WHERE experiment_id = ?1 AND document_type = ?2",
                args![experiment_id, document_type],
            )
            .await
    }

    async fn list_summaries(&self, experiment_id: &str) -> Result<Vec<DocumentSummary>> {
        self.db
            .fetch_all(
                "SELECT id, experiment_id, document_type, metadata, generated_at, model, status, error_message
                 FROM experiment_documents WHERE experiment_id = ?1 ORDER BY document_type, id",
                args![experiment_id],
            )
            .await
    }

    async fn get_markdown(&self, experiment_id: &str, document_type: DocumentType) -> Result<Option<String>> {
        self.db
            .fetch_value(
                "SELECT markdown_content AS value FROM experiment_documents
                 WHERE experiment_id = ?1 AND document_type = ?2",
                args![experiment_id, document_type],
            )
            .await
    }

    async fn save(&self, new: &NewExperimentDocument) -> Result<ExperimentDocument> {
        self.db
            .fetch_written(
                "INSERT INTO experiment_documents
                     (id, experiment_id, document_type, markdown_content, metadata, generated_at, model, status,
                      error_message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (experiment_id, document_type) DO UPDATE
                 SET markdown_content = excluded.markdown_content, metadata = excluded.metadata,
                     generated_at = excluded.generated_at, model = excluded.model, status = excluded.status,
                     error_message = excluded.error_message
                 RETURNING id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                           status, error_message",
                args![
                    new.id,
                    new.experiment_id,
                    new.document_type,
                    new.markdown_content,
                    new.metadata,
                    new.generated_at.unwrap_or_else(now),
                    new.model,
                    new.status,
                    new.error_message
                ],
            )
            .await
    }

    async fn create_pending(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
        model: Option<&str>,
    ) -> Result<ExperimentDocument> {
        self.db
            .fetch_written(
                "INSERT INTO experiment_documents
                     (id, experiment_id, document_type, markdown_content, metadata, generated_at, model, status,
                      error_message)
                 VALUES (?1, ?2, ?3, '', NULL, ?4, ?5, 'pending', NULL)
                 ON CONFLICT (experiment_id, document_type) DO UPDATE
                 SET markdown_content = '', metadata = NULL, generated_at = excluded.generated_at,
                     model = excluded.model, status = 'pending', error_message = NULL
                 RETURNING id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                           status, error_message",
                args![id::generate("doc", 12), experiment_id, document_type, now(), model],
            )
            .await
    }

    async fn update_status(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
        update: &DocumentStatusUpdate,
    ) -> Result<ExperimentDocument> {
        self.db
            .fetch_updated(
                "UPDATE experiment_documents
                 SET status = ?3, error_message = ?4, markdown_content = coalesce(?5, markdown_content),
                     generated_at = CASE WHEN ?5 IS NULL THEN generated_at ELSE ?6 END,
                     metadata = coalesce(?7, metadata)
                 WHERE experiment_id = ?1 AND document_type = ?2
                 RETURNING id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                           status, error_message",
                args![
                    experiment_id,
                    document_type,
                    update.status,
                    update.error_message,
                    update.markdown_content,
                    now(),
                    update.metadata
                ],
                format!("{document_type} document of experiment {experiment_id}"),
            )
            .await
    }

    async fn delete(&self, experiment_id: &str, document_type: DocumentType) -> Result<bool> {
        let deleted = self
            .db
            .execute_count(
                "DELETE FROM experiment_documents WHERE experiment_id = ?1 AND document_type = ?2",
                args![experiment_id, document_type],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn existing_types(&self, experiment_id: &str) -> Result<Vec<DocumentType>> {
        // (experiment_id, document_type) is unique: the type alone orders the rows.
        self.db
            .fetch_values(
                "SELECT document_type AS value FROM experiment_documents WHERE experiment_id = ?1
                 ORDER BY document_type",
                args![experiment_id],
            )
            .await
    }

    async fn status(&self, experiment_id: &str, document_type: DocumentType) -> Result<Option<DocumentStatus>> {
        self.db
            .fetch_value(
                "SELECT status AS value FROM experiment_documents WHERE experiment_id = ?1 AND document_type = ?2",
                args![experiment_id, document_type],
            )
            .await
    }
}
