//! [`ExperimentDocumentRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::SqliteDb;
use super::row::{enumerated, opt_json, opt_json_param, opt_string, string, timestamp, ts_param};
use crate::model::{
    DocumentStatus, DocumentStatusUpdate, DocumentSummary, DocumentType, ExperimentDocument, NewExperimentDocument, id,
    now,
};
use crate::repo::ExperimentDocumentRepository;
use crate::{Error, Result};

const TABLE: &str = "experiment_documents";

/// Experiment documents in the legacy SQLite store.
pub(crate) struct SqliteExperimentDocumentRepository {
    db: SqliteDb,
}

impl SqliteExperimentDocumentRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteExperimentDocumentRepository { db }
    }
}

fn document(row: &Row<'_>) -> Result<ExperimentDocument> {
    Ok(ExperimentDocument {
        id: string(row, TABLE, "id")?,
        experiment_id: string(row, TABLE, "experiment_id")?,
        document_type: enumerated(row, TABLE, "document_type")?,
        markdown_content: string(row, TABLE, "markdown_content")?,
        metadata: opt_json(row, TABLE, "metadata")?,
        generated_at: timestamp(row, TABLE, "generated_at")?,
        model: opt_string(row, TABLE, "model")?,
        status: enumerated(row, TABLE, "status")?,
        error_message: opt_string(row, TABLE, "error_message")?,
    })
}

fn summary(row: &Row<'_>) -> Result<DocumentSummary> {
    Ok(DocumentSummary {
        id: string(row, TABLE, "id")?,
        experiment_id: string(row, TABLE, "experiment_id")?,
        document_type: enumerated(row, TABLE, "document_type")?,
        metadata: opt_json(row, TABLE, "metadata")?,
        generated_at: timestamp(row, TABLE, "generated_at")?,
        model: opt_string(row, TABLE, "model")?,
        status: enumerated(row, TABLE, "status")?,
        error_message: opt_string(row, TABLE, "error_message")?,
    })
}

#[async_trait]
impl ExperimentDocumentRepository for SqliteExperimentDocumentRepository {
    async fn get(&self, id: &str) -> Result<Option<ExperimentDocument>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                            status, error_message
                     FROM experiment_documents WHERE id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(document).transpose()
            })
            .await
    }

    async fn get_by_type(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
    ) -> Result<Option<ExperimentDocument>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                            status, error_message
                     FROM experiment_documents WHERE experiment_id = ?1 AND document_type = ?2",
                )?;
                let mut rows = stmt.query(params![experiment_id, document_type.as_str()])?;
                rows.next()?.map(document).transpose()
            })
            .await
    }

    async fn list_summaries(&self, experiment_id: &str) -> Result<Vec<DocumentSummary>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, experiment_id, document_type, metadata, generated_at, model, status, error_message
                     FROM experiment_documents WHERE experiment_id = ?1 ORDER BY document_type, id",
                )?;
                let mut rows = stmt.query([experiment_id])?;
                let mut summaries = Vec::new();
                while let Some(row) = rows.next()? {
                    summaries.push(summary(row)?);
                }
                Ok(summaries)
            })
            .await
    }

    async fn get_markdown(&self, experiment_id: &str, document_type: DocumentType) -> Result<Option<String>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT markdown_content FROM experiment_documents WHERE experiment_id = ?1 AND document_type = ?2",
                )?;
                let mut rows = stmt.query(params![experiment_id, document_type.as_str()])?;
                rows.next()?
                    .map(|row| string(row, TABLE, "markdown_content"))
                    .transpose()
            })
            .await
    }

    async fn save(&self, new: &NewExperimentDocument) -> Result<ExperimentDocument> {
        let new = new.clone();
        let generated_at = new.generated_at.unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
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
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.experiment_id,
                    new.document_type.as_str(),
                    new.markdown_content,
                    opt_json_param(&new.metadata),
                    ts_param(&generated_at),
                    new.model,
                    new.status.as_str(),
                    new.error_message
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                document(row)
            })
            .await
    }

    async fn create_pending(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
        model: Option<&str>,
    ) -> Result<ExperimentDocument> {
        let (new_id, experiment_id, model, generated_at) = (
            id::generate("doc", 12),
            experiment_id.to_owned(),
            model.map(str::to_owned),
            now(),
        );
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO experiment_documents
                         (id, experiment_id, document_type, markdown_content, metadata, generated_at, model, status,
                          error_message)
                     VALUES (?1, ?2, ?3, '', NULL, ?4, ?5, 'pending', NULL)
                     ON CONFLICT (experiment_id, document_type) DO UPDATE
                     SET markdown_content = '', metadata = NULL, generated_at = excluded.generated_at,
                         model = excluded.model, status = 'pending', error_message = NULL
                     RETURNING id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                               status, error_message",
                )?;
                let mut rows = stmt.query(params![
                    new_id,
                    experiment_id,
                    document_type.as_str(),
                    ts_param(&generated_at),
                    model
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                document(row)
            })
            .await
    }

    async fn update_status(
        &self,
        experiment_id: &str,
        document_type: DocumentType,
        update: &DocumentStatusUpdate,
    ) -> Result<ExperimentDocument> {
        let (experiment_id, update, generated_at) = (experiment_id.to_owned(), update.clone(), now());
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "UPDATE experiment_documents
                     SET status = ?3, error_message = ?4, markdown_content = coalesce(?5, markdown_content),
                         generated_at = CASE WHEN ?5 IS NULL THEN generated_at ELSE ?6 END,
                         metadata = coalesce(?7, metadata)
                     WHERE experiment_id = ?1 AND document_type = ?2
                     RETURNING id, experiment_id, document_type, markdown_content, metadata, generated_at, model,
                               status, error_message",
                )?;
                let mut rows = stmt.query(params![
                    experiment_id,
                    document_type.as_str(),
                    update.status.as_str(),
                    update.error_message,
                    update.markdown_content,
                    ts_param(&generated_at),
                    opt_json_param(&update.metadata)
                ])?;
                rows.next()?
                    .map(document)
                    .transpose()?
                    .ok_or_else(|| Error::not_found(format!("{document_type} document of experiment {experiment_id}")))
            })
            .await
    }

    async fn delete(&self, experiment_id: &str, document_type: DocumentType) -> Result<bool> {
        let experiment_id = experiment_id.to_owned();
        let deleted = self
            .db
            .execute(
                "DELETE FROM experiment_documents WHERE experiment_id = ?1 AND document_type = ?2",
                (experiment_id, document_type.as_str()),
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn existing_types(&self, experiment_id: &str) -> Result<Vec<DocumentType>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                // (experiment_id, document_type) is unique: the type alone orders the rows.
                let mut stmt = conn.prepare_cached(
                    "SELECT document_type FROM experiment_documents WHERE experiment_id = ?1 ORDER BY document_type",
                )?;
                let mut rows = stmt.query([experiment_id])?;
                let mut types = Vec::new();
                while let Some(row) = rows.next()? {
                    types.push(enumerated(row, TABLE, "document_type")?);
                }
                Ok(types)
            })
            .await
    }

    async fn status(&self, experiment_id: &str, document_type: DocumentType) -> Result<Option<DocumentStatus>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT status FROM experiment_documents WHERE experiment_id = ?1 AND document_type = ?2",
                )?;
                let mut rows = stmt.query(params![experiment_id, document_type.as_str()])?;
                rows.next()?.map(|row| enumerated(row, TABLE, "status")).transpose()
            })
            .await
    }
}
