//! [`ExperimentDocumentRepository`] over PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgDb;
use super::row::{enumerated, get, opt_json, timestamp};
use crate::model::{
    DocumentStatus, DocumentStatusUpdate, DocumentSummary, DocumentType, ExperimentDocument, NewExperimentDocument, id,
    now,
};
use crate::repo::ExperimentDocumentRepository;
use crate::{Error, Result};

const TABLE: &str = "experiment_documents";

/// Experiment documents in PostgreSQL.
pub(crate) struct PgExperimentDocumentRepository {
    db: PgDb,
}

impl PgExperimentDocumentRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgExperimentDocumentRepository { db }
    }
}

fn document(row: &Row) -> Result<ExperimentDocument> {
    Ok(ExperimentDocument {
        id: get(row, TABLE, "id")?,
        experiment_id: get(row, TABLE, "experiment_id")?,
        document_type: enumerated(row, TABLE, "document_type")?,
        markdown_content: get(row, TABLE, "markdown_content")?,
        metadata: opt_json(row, TABLE, "metadata")?,
        generated_at: timestamp(row, TABLE, "generated_at")?,
        model: get(row, TABLE, "model")?,
        status: enumerated(row, TABLE, "status")?,
        error_message: get(row, TABLE, "error_message")?,
    })
}

fn summary(row: &Row) -> Result<DocumentSummary> {
    Ok(DocumentSummary {
        id: get(row, TABLE, "id")?,
        experiment_id: get(row, TABLE, "experiment_id")?,
        document_type: enumerated(row, TABLE, "document_type")?,
        metadata: opt_json(row, TABLE, "metadata")?,
        generated_at: timestamp(row, TABLE, "generated_at")?,
        model: get(row, TABLE, "model")?,
        status: enumerated(row, TABLE, "status")?,
        error_message: get(row, TABLE, "error_message")?,
    })
}

#[async_trait]
impl ExperimentDocumentRepository for PgExperimentDocumentRepository {
    async fn get(&self, id: &str) -> Result<Option<ExperimentDocument>> {
        self.db
            .query_opt(
                "SELECT id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                        status, error_message
                 FROM experiment_documents WHERE id = $1",
                &[&id],
            )
            .await?
            .as_ref()
            .map(document)
            .transpose()
    }

    async fn get_by_type(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
    ) -> Result<Option<ExperimentDocument>> {
        self.db
            .query_opt(
                "SELECT id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                        status, error_message
                 FROM experiment_documents WHERE experiment_id = $1 AND document_type = $2",
                &[&experiment_id, &document_type.as_str()],
            )
            .await?
            .as_ref()
            .map(document)
            .transpose()
    }

    async fn list_summaries(&self, experiment_id: &str) -> Result<Vec<DocumentSummary>> {
        self.db
            .query(
                "SELECT id, experiment_id, document_type, metadata, generated_at, model, status, error_message
                 FROM experiment_documents WHERE experiment_id = $1 ORDER BY document_type, id",
                &[&experiment_id],
            )
            .await?
            .iter()
            .map(summary)
            .collect()
    }

    async fn get_markdown(&self, experiment_id: &str, document_type: DocumentType) -> Result<Option<String>> {
        self.db
            .query_opt(
                "SELECT markdown_content FROM experiment_documents WHERE experiment_id = $1 AND document_type = $2",
                &[&experiment_id, &document_type.as_str()],
            )
            .await?
            .as_ref()
            .map(|row| get(row, TABLE, "markdown_content"))
            .transpose()
    }

    async fn save(&self, new: &NewExperimentDocument) -> Result<ExperimentDocument> {
        let new = new.clone();
        let generated_at = new.generated_at.unwrap_or_else(now);
        let row = self
            .db
            .query_one(
                "INSERT INTO experiment_documents
                     (id, experiment_id, document_type, markdown_content, metadata, generated_at, model, status,
                      error_message)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (experiment_id, document_type) DO UPDATE
                 SET markdown_content = excluded.markdown_content, metadata = excluded.metadata,
                     generated_at = excluded.generated_at, model = excluded.model, status = excluded.status,
                     error_message = excluded.error_message
                 RETURNING id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                           status, error_message",
                &[
                    &new.id,
                    &new.experiment_id,
                    &new.document_type.as_str(),
                    &new.markdown_content,
                    &new.metadata,
                    &generated_at,
                    &new.model,
                    &new.status.as_str(),
                    &new.error_message,
                ],
            )
            .await?;
        document(&row)
    }

    async fn create_pending(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
        model: Option<&str>,
    ) -> Result<ExperimentDocument> {
        let row = self
            .db
            .query_one(
                "INSERT INTO experiment_documents
                     (id, experiment_id, document_type, markdown_content, metadata, generated_at, model, status,
                      error_message)
                 VALUES ($1, $2, $3, '', NULL, $4, $5, 'pending', NULL)
                 ON CONFLICT (experiment_id, document_type) DO UPDATE
                 SET markdown_content = '', metadata = NULL, generated_at = excluded.generated_at,
                     model = excluded.model, status = 'pending', error_message = NULL
                 RETURNING id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                           status, error_message",
                &[
                    &id::generate("doc", 12),
                    &experiment_id,
                    &document_type.as_str(),
                    &now(),
                    &model,
                ],
            )
            .await?;
        document(&row)
    }

    async fn update_status(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
        update: &DocumentStatusUpdate,
    ) -> Result<ExperimentDocument> {
        let update = update.clone();
        self.db
            .query_opt(
                "UPDATE experiment_documents
                 SET status = $3, error_message = $4, markdown_content = coalesce($5, markdown_content),
                     generated_at = CASE WHEN $5::text IS NULL THEN generated_at ELSE $6 END,
                     metadata = coalesce($7, metadata)
                 WHERE experiment_id = $1 AND document_type = $2
                 RETURNING id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                           status, error_message",
                &[
                    &experiment_id,
                    &document_type.as_str(),
                    &update.status.as_str(),
                    &update.error_message,
                    &update.markdown_content,
                    &now(),
                    &update.metadata,
                ],
            )
            .await?
            .as_ref()
            .map(document)
            .transpose()?
            .ok_or_else(|| Error::not_found(format!("{document_type} document of experiment {experiment_id}")))
    }

    async fn delete(&self, experiment_id: &str, document_type: DocumentType) -> Result<bool> {
        let deleted = self
            .db
            .execute(
                "DELETE FROM experiment_documents WHERE experiment_id = $1 AND document_type = $2",
                &[&experiment_id, &document_type.as_str()],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn existing_types(&self, experiment_id: &str) -> Result<Vec<DocumentType>> {
        // (experiment_id, document_type) is unique: the type alone orders the rows.
        self.db
            .query(
                "SELECT document_type FROM experiment_documents WHERE experiment_id = $1 ORDER BY document_type",
                &[&experiment_id],
            )
            .await?
            .iter()
            .map(|row| enumerated(row, TABLE, "document_type"))
            .collect()
    }

    async fn status(&self, experiment_id: &str, document_type: DocumentType) -> Result<Option<DocumentStatus>> {
        self.db
            .query_opt(
                "SELECT status FROM experiment_documents WHERE experiment_id = $1 AND document_type = $2",
                &[&experiment_id, &document_type.as_str()],
            )
            .await?
            .as_ref()
            .map(|row| enumerated(row, TABLE, "status"))
            .transpose()
    }
}
